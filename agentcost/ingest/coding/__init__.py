"""What the coding-agent readers share: the steps they make of the requests and tool calls
they find, and the tasks (one user prompt each) those belong to."""
