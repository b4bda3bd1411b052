"""What runs on one Playwright page: the actions, evaluate_js, devices, secret fields.

Below both the agent (which drives a page instruction by instruction) and the browser
sessions (which own the pages), so neither imports the other through it.
"""
