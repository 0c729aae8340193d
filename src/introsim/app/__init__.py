"""The workshop dashboard: levers, what-if runs and charts in the browser (``introsim dashboard``).

The model knows nothing of this package; it imports the model, never the reverse.
"""
