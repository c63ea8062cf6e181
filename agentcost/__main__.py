from agentcost.cli import main

if __name__ == "__main__":  # a helper process imports this module too, and must not run it
    main()
