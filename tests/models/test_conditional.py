"""Conditional GANs and VAEs on the target's regions: the label they are given is the region
they draw from, unconditional samples follow the regions' masses, and the conditional parts
save, load and stack like the rest of the model."""

import math

import numpy as np
import pytest
import torch

from genbench.metrics.label_fidelity import NUM_PER_LABEL, label_fidelity
from genbench.models.gan import GAN
from genbench.models.labels import LABEL_SLOTS, LabelPrior
from genbench.models.vae import VAE
from genbench.targets import get_target

NO_SAMPLES = np.zeros((0, 2))
EIGHT = get_target("eight_gaussians")
SMALL_GAN = dict(
    generator_width=64, discriminator_width=64, standardize=True, r1=0.03, final_lr=0.1,
    ema_decay=0.99, batch_size=256,
)  # fmt: skip
SMALL_VAE = dict(width=64, depth=2, lr=3e-3)


@pytest.fixture(scope="module")
def cgan() -> GAN:
    model = GAN(latent_dim=2, conditional=True, label_input="concat", **SMALL_GAN)
    return model.fit(EIGHT, 1500, 0)


@pytest.fixture(scope="module")
def cvae() -> VAE:
    # the KL term from the first step: with a warm-up the code learns the mode first, and the
    # decoder reads it from z instead of the label (fidelity 0.82 with the default 0.3)
    model = VAE(latent_dim=2, conditional=True, label_input="concat", kl_warmup=0, **SMALL_VAE)
    return model.fit(EIGHT, 1500, 0)


@pytest.mark.parametrize("name", ["cgan", "cvae"])
def test_samples_for_label_k_land_in_mode_k(name, request):
    model = request.getfixturevalue(name)
    assert label_fidelity(EIGHT, NO_SAMPLES, model=model) >= 0.95


@pytest.mark.parametrize("name", ["cgan", "cvae"])
def test_unconditional_samples_follow_the_regions_masses(name, request):
    samples = request.getfixturevalue(name).sample(8000, seed=3)
    shares = np.bincount(EIGHT.region_of(samples), minlength=8) / len(samples)
    assert np.abs(shares - 1 / 8).max() < 0.03  # 8 equal modes, none dropped


def test_a_model_that_ignores_its_label_scores_the_chance_level():
    class Ignoring:  # draws from the target whatever the label
        conditional = True

        def sample_given(self, labels, seed):
            return EIGHT.sample(len(labels), seed)

    assert label_fidelity(EIGHT, NO_SAMPLES, model=Ignoring()) == pytest.approx(1 / 8, abs=0.02)


def test_a_model_that_honours_its_label_scores_one():
    class Honest:
        conditional = True

        def sample_given(self, labels, seed):
            return np.asarray(EIGHT.means)[labels]

    assert label_fidelity(EIGHT, NO_SAMPLES, model=Honest()) == 1.0
    assert NUM_PER_LABEL >= 1000


def test_unconditional_models_have_no_label_fidelity_and_no_sample_given():
    plain = GAN(latent_dim=2, **SMALL_GAN).fit(EIGHT, 2, 0)
    assert math.isnan(label_fidelity(EIGHT, NO_SAMPLES, model=plain))
    with pytest.raises(ValueError, match="conditional"):
        plain.sample_given(np.zeros(3, dtype=int), 0)


def test_labels_outside_the_targets_regions_are_refused(cgan):
    with pytest.raises(ValueError, match=r"region indices in \[0, 8\)"):
        cgan.sample_given(np.array([0, 8]), 0)


def test_points_in_no_region_get_the_label_after_the_last():
    spiral = get_target("spiral")
    off_arm = np.array([[0.0, 0.0], [10.0, 10.0]])
    assert (spiral.region_of(off_arm) == -1).all()
    assert (spiral.label_of(off_arm) == len(spiral.region_masses)).all()


def test_a_target_with_more_regions_than_label_slots_is_refused():
    class Crowded:
        name = "crowded"
        region_masses = np.full(LABEL_SLOTS, 1 / LABEL_SLOTS)

    with pytest.raises(ValueError, match="at most"):
        LabelPrior().fit(Crowded())


@pytest.mark.parametrize("family", [GAN, VAE])
def test_a_conditional_model_saves_and_loads_its_labels(family, tmp_path):
    params = SMALL_GAN if family is GAN else SMALL_VAE
    model = family(latent_dim=3, conditional=True, **params).fit(get_target("spiral"), 20, 0)
    model.save(tmp_path / "model.pt")
    loaded = family.load(tmp_path / "model.pt")
    assert loaded.labels_.count == 12
    labels = np.arange(12).repeat(5)
    assert np.array_equal(loaded.sample_given(labels, 4), model.sample_given(labels, 4))
    assert np.array_equal(loaded.sample(300, 4), model.sample(300, 4))


@pytest.mark.parametrize("family", [GAN, VAE])
def test_a_conditional_models_training_does_not_depend_on_its_stack(family):
    params = SMALL_GAN if family is GAN else SMALL_VAE
    targets = [get_target(name) for name in ("gaussian", "eight_gaussians", "spiral")]

    def stack(count):
        models = [family(latent_dim=2, conditional=True, **params) for _ in range(count)]
        return family.fit_many(models, targets[:count], 30, [0, 1, 2][:count])

    three, two = stack(3), stack(2)
    for module in ("generator", "discriminator") if family is GAN else ("encoder", "decoder"):
        for a, b in zip(
            three[1].modules()[module].state_dict().values(),
            two[1].modules()[module].state_dict().values(),
            strict=True,
        ):
            assert torch.equal(a, b)


def test_the_conditional_vaes_density_bound_integrates_to_at_most_one(cvae):
    # log Σ_y p(y) bound(x | y): a bound on a density over the plane, so its exponential
    # integrates to at most 1, and nearly 1 for the 64-draw importance-weighted bound
    edge = EIGHT.plot_range
    axis = np.linspace(-edge, edge, 161)
    cell = (axis[1] - axis[0]) ** 2
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    mass = np.exp(cvae.log_prob(grid)).sum() * cell
    assert 0.8 < mass <= 1.02
    x = EIGHT.sample(3000, seed=5)
    assert cvae.log_prob(x).mean() < EIGHT.log_prob(x).mean()


def test_a_conditional_vaes_elbo_bounds_its_density_below_the_importance_weighted_bound(cvae):
    x = EIGHT.sample(500, seed=6)
    elbo, bound = cvae.elbo(x), cvae.log_prob(x)
    assert (elbo <= bound + 1e-5).all() and (elbo < bound - 1e-3).any()


def test_a_conditional_vaes_rate_and_distortion_code_each_point_given_its_region(cvae):
    x = EIGHT.sample(2000, seed=6)
    rate, distortion = cvae.rate_distortion(x, seed=0, labels=EIGHT.label_of(x))
    assert rate > 0 and np.isfinite(distortion)
    with pytest.raises(ValueError, match="labels"):
        cvae.rate_distortion(x, seed=0)
