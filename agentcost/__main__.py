from agentcost.cli import main

main()
