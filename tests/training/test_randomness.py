"""A fit's random state (sklstm/training/randomness.py): alone, it owns torch's global
generators; beside other fits, it draws the same numbers in the same order whatever the
other threads draw meanwhile."""

import threading
import time

import numpy as np
import pytest
import torch

from sklstm import LSTMRegressor
from sklstm.resources.concurrency import fit_running, fits_in_threads
from sklstm.training import randomness as randomness_module
from sklstm.training.randomness import FitRandomness, global_draws

CPU = torch.device("cpu")


def _alone(seed, n_draws):
    """What a fit seeded with ``seed`` draws in ``n_draws`` blocks, with nothing beside it."""
    with FitRandomness(seed, CPU) as fit:
        out = []
        for _ in range(n_draws):
            with fit.draws():
                out.append(torch.rand(3))
        return out


def _interleaved(seeds, n_draws):
    """Fits entered one after the other, their draws taken in turn in one thread."""
    fits = [FitRandomness(seed, CPU).__enter__() for seed in seeds]
    draws = {seed: [] for seed in seeds}
    for _ in range(n_draws):
        for seed, fit in zip(seeds, fits, strict=True):
            with fit.draws():
                draws[seed].append(torch.rand(3))
    for fit in reversed(fits):
        fit.__exit__(None, None, None)
    return draws


def _same(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_interleaved_fits_draw_what_they_draw_alone():
    before = torch.get_rng_state()
    with fits_in_threads():
        draws = _interleaved([1, 2, 3], 4)
    for seed, got in draws.items():
        assert _same(got, _alone(seed, 4))
    assert torch.equal(torch.get_rng_state(), before)  # the global state is left as it was


def test_alone_the_global_generators_are_the_fit_s():
    """Why the concurrent mode exists: fits interleaved without it draw from one stream."""
    draws = _interleaved([1, 2], 2)
    assert not _same(draws[1], _alone(1, 2))
    with FitRandomness(5, CPU) as fit:  # the fit's state is the global one
        assert not fit.concurrent
        a = torch.rand(2)
    with global_draws(CPU, seed=5):
        assert torch.equal(a, torch.rand(2))


def test_fits_in_threads_draw_what_they_draw_alone():
    seeds, n_draws = list(range(6)), 50
    results, start = {}, threading.Barrier(len(seeds))

    def run(seed):
        start.wait()  # all at once, so that their blocks interleave
        with FitRandomness(seed, CPU) as fit:
            out = []
            for _ in range(n_draws):
                with fit.draws():
                    out.append(torch.rand(3))
                time.sleep(0)  # (let another thread draw next)
            results[seed] = out

    before = torch.get_rng_state()
    with fits_in_threads():
        threads = [threading.Thread(target=run, args=(seed,)) for seed in seeds]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for seed in seeds:
        assert _same(results[seed], _alone(seed, n_draws))
    assert torch.equal(torch.get_rng_state(), before)


def test_a_fit_started_beside_a_running_one_draws_what_both_draw_alone():
    """No fits_in_threads: the second fit finds the first running in another thread
    (fit_running) and keeps its state to itself, and the first's draws wait for its
    swaps; before, the second seeded the generators the first was drawing from."""
    n_draws, results = 40, {}
    first_in, second_in = threading.Event(), threading.Event()

    def run(seed, entered, other):
        with fit_running(), FitRandomness(seed, CPU) as fit:
            entered.set()
            if other is not None:
                other.wait(timeout=30)  # the first draws once the second has entered
            out = []
            for _ in range(n_draws):
                with fit.draws():
                    out.append(torch.rand(3))
                time.sleep(0.001)  # their draws interleave
            results[seed] = (fit.concurrent, out)

    before = torch.get_rng_state()
    first = threading.Thread(target=run, args=(1, first_in, second_in))
    first.start()
    first_in.wait(timeout=30)
    second = threading.Thread(target=run, args=(2, second_in, None))
    second.start()
    for thread in (first, second):
        thread.join()
    assert results[1][0] is False and results[2][0] is True
    for seed in (1, 2):
        assert _same(results[seed][1], _alone(seed, n_draws))
    assert torch.equal(torch.get_rng_state(), before)


def test_nested_blocks_of_one_fit_keep_its_state():
    with fits_in_threads(), FitRandomness(3, CPU) as fit:
        with fit.draws():
            a = torch.rand(2)
            with fit.draws():
                b = torch.rand(2)
            c = torch.rand(2)
    with global_draws(CPU, seed=3):
        assert torch.equal(torch.cat([a, b, c]), torch.rand(6))


def test_a_network_without_dropout_takes_no_lock_in_its_steps():
    with fits_in_threads(), FitRandomness(0, CPU, steps_draw=False) as fit:
        assert fit.step_draws() is randomness_module.NO_DRAWS
        assert fit.draws() is not randomness_module.NO_DRAWS


X = np.random.default_rng(0).normal(size=(32, 5, 2)).astype(np.float32)
SMALL = dict(hidden_size=4, batch_size=16, max_epochs=2, tol=None, random_state=0,
             n_threads=1, device="cpu")


def test_a_cpu_fit_seeds_no_accelerator_s_generator(monkeypatch):
    # torch.manual_seed seeds every device's generator, and a CPU fit forks only the
    # CPU's: the user's CUDA (MPS) generators were left seeded with the fit's seed
    seeded = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: seeded.append("cuda"))
    monkeypatch.setattr(torch.mps, "manual_seed", lambda seed: seeded.append("mps"))
    before = torch.get_rng_state()
    fitted = LSTMRegressor(**SMALL, dropout=0.5, num_layers=2).fit(X, X[:, -1, 0])
    assert seeded == [] and torch.equal(torch.get_rng_state(), before)
    monkeypatch.undo()  # and the fit draws what it drew when seeded by torch.manual_seed
    with FitRandomness(7, CPU) as fit, fit.draws():
        a = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(a, torch.rand(3))
    torch.set_rng_state(before)
    again = LSTMRegressor(**SMALL, dropout=0.5, num_layers=2).fit(X, X[:, -1, 0])
    np.testing.assert_array_equal(fitted.predict(X), again.predict(X))


MPS = torch.device("mps")


@pytest.fixture
def fake_mps(monkeypatch):
    """MPS's generator as on a Mac, a CPU generator standing in for it (seeded 123);
    seeding every device refused."""
    generator = torch.Generator().manual_seed(123)

    def every_device(seed):
        raise AssertionError("every CUDA device was seeded")

    monkeypatch.setattr(torch.cuda, "manual_seed_all", every_device)
    monkeypatch.setattr(torch.mps, "manual_seed", generator.manual_seed)
    monkeypatch.setattr(torch.mps, "get_rng_state", lambda device="mps": generator.get_state())
    monkeypatch.setattr(torch.mps, "set_rng_state",
                        lambda state, device="mps": generator.set_state(state))
    return generator


def _dropout_draws(fit, generator, n_draws):
    """``n_draws`` blocks of ``fit`` drawing from the device's generator, as dropout on
    it does."""
    out = []
    for _ in range(n_draws):
        with fit.draws():
            out.append(torch.rand(3, generator=generator))
    return out


def test_a_fit_on_an_accelerator_seeds_its_own_generator_alone(fake_mps):
    # torch.manual_seed seeded every device's generator: a fit on cuda:0 left the user's
    # cuda:1 seeded (and reseeded a fit there in another thread); MPS stands in for the
    # fit's device here, a generator torch seeds by a call of its own
    with global_draws(MPS, seed=3):
        a = torch.rand(2)
        b = torch.rand(2, generator=fake_mps)
    seeded = torch.Generator().manual_seed(3)
    assert torch.equal(a, torch.rand(2, generator=seeded))
    assert torch.equal(b, torch.rand(2, generator=torch.Generator().manual_seed(3)))


def test_a_fit_on_mps_leaves_the_user_s_mps_generator_as_it_was(fake_mps):
    # the fit seeded MPS's generator but forked the CPU's alone: after a fit on "mps"
    # the user's torch.mps generator was left at the fit's seed, drawn on by its dropout
    before = fake_mps.get_state()
    with FitRandomness(7, MPS) as fit:
        drawn = _dropout_draws(fit, fake_mps, 2)
    assert torch.equal(fake_mps.get_state(), before)
    with global_draws(MPS, seed=7):
        assert _same(drawn, [torch.rand(3, generator=fake_mps) for _ in range(2)])
    assert torch.equal(fake_mps.get_state(), before)


def test_fits_on_mps_beside_each_other_draw_their_dropout_as_alone(fake_mps):
    # the MPS generator was not among the states swapped in and out of a concurrent
    # fit's blocks: two fits on "mps" in threads took turns on one dropout stream
    def alone(seed):
        with FitRandomness(seed, MPS) as fit:
            return _dropout_draws(fit, fake_mps, 3)

    with fits_in_threads():
        fits = {seed: FitRandomness(seed, MPS).__enter__() for seed in (1, 2)}
        draws = {seed: [] for seed in fits}
        for _ in range(3):
            for seed, fit in fits.items():
                draws[seed] += _dropout_draws(fit, fake_mps, 1)
        for fit in reversed(fits.values()):
            fit.__exit__(None, None, None)
    for seed, got in draws.items():
        assert _same(got, alone(seed)), seed


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cpu_fit_leaves_the_cuda_generator_as_it_was():
    torch.cuda.manual_seed(123)
    before = torch.cuda.get_rng_state()
    LSTMRegressor(**SMALL).fit(X, X[:, -1, 0])
    assert torch.equal(torch.cuda.get_rng_state(), before)
