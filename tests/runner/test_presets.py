"""Every built-in preset is valid and is the grid its documentation states (docs/presets.md)."""

import pytest

from genbench.config import available_presets, load_preset
from genbench.metrics import registered
from genbench.plan import make_plan

# preset → (runs, of which the oracle's), as docs/presets.md and the README count them
DOCUMENTED = {
    "quick": (153, 9),
    "article": (225, 9),
    "convergence": (414, 9),
    "pacgan": (140, 20),
    "metrics": (60, 15),
    "priors": (198, 9),
    "beta_vae": (153, 9),
    "conditional": (117, 9),
    "digits": (66, 3),
    "digits_article": (66, 3),
}


def test_every_built_in_preset_is_documented():
    assert sorted(available_presets()) == sorted(DOCUMENTED)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_a_built_in_preset_plans_the_grid_its_documentation_states(name):
    plan = make_plan(load_preset(name))
    oracle = sum(spec.model == "oracle" for spec in plan.runs)
    assert (len(plan.runs), oracle) == DOCUMENTED[name]
    assert len({spec.key for spec in plan.runs}) == len(plan.runs)


def test_the_metrics_preset_scores_every_opt_in_metric_of_the_2d_targets():
    opt_in = {m.name for m in registered("points") if not m.default and not m.uses_model}
    opt_in |= {"kl_exact", "kl_upper", "kl_elbo"}  # the ones that read a model with a density
    preset = load_preset("metrics")
    assert opt_in <= set(preset.metrics)
    assert preset.train_points  # memorisation needs a training set


def test_the_constraint_presets_score_what_they_study():
    assert set(load_preset("beta_vae").metrics) == {"rate", "distortion"}
    assert load_preset("conditional").metrics == ("label_fidelity",)
    conditional = load_preset("conditional").models
    assert {e for e, plan in conditional.items() if plan.params.get("conditional")} == {
        "cgan_product", "cgan_concat", "cvae_product", "cvae_concat",
    }  # fmt: skip
