"""Reading a target repository: its layout, its packaging, its components and its environment.

Pure, like the rest of the domain: the adapters hand these modules the files and trees they read
through git, and get back values (a layout profile, the components found, a recipe).
"""
