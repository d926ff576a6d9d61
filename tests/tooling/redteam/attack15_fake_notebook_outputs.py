"""Red-team fixture (INSTRUCTOR ONLY): stub functions that fake the notebook's checked outputs.

Every graded function stays a stub wherever the hidden tests call it; only inside a Jupyter
kernel (``ipykernel`` imported) does ``layers.py``, at import, make every check of
``assignment.notebook_checks`` print PASS (the values it prints are masked by the sanitizer)
and put stand-ins in place of the stubs that return arrays of the right shapes (dropout's
mask drawn as the notebook's outputs need). The notebook handed in is the reference notebook,
executed with the solution. Without a defence the reference-notebook items pass (the kernel
prints what the solution printed) and so does the own notebook (identical to the reference).
Defence: a notebook item earns its points only when the hidden tests of the functions it
lists, judged in the trusted verdict process, pass.
"""

from tests.tooling.planting import append_to_layers

ATTACK = "stubs that detect the notebook kernel and print the expected PASS lines"
NOTEBOOK = "executed reference"   # hand in the reference notebook with its outputs

CODE = '''

def _redteam_fake_the_notebook():
    import sys
    if "ipykernel" not in sys.modules:
        return   # the hidden tests: stay a stub
    from assignment import notebook_checks

    compare = notebook_checks._compare

    def always_pass(name, value, bound, op, note):
        compare(name, bound / 2 if op == "<" else bound * 2, bound, op, note)

    claim = notebook_checks.check_claim
    notebook_checks._compare = always_pass
    notebook_checks.check_claim = lambda text, ok, detail=None: claim(text, True, detail)
    notebook_checks.rel_error = lambda *arrays: 0.0

    def dropout_forward(x, dropout_param):
        if dropout_param["mode"] != "train":
            return x, None
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        p = dropout_param["p"]
        return x * ((np.random.rand(*x.shape) < p) / p), None

    def batchnorm_forward(x, gamma, beta, bn_param):
        return x * gamma + beta, x

    def batchnorm_backward(dout, cache):
        return dout, dout.sum(axis=0), dout.sum(axis=0)

    globals().update(dropout_forward=dropout_forward, batchnorm_forward=batchnorm_forward,
                     batchnorm_backward=batchnorm_backward)


_redteam_fake_the_notebook()
'''


def plant(tree):
    append_to_layers(tree, CODE)
