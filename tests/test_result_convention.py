"""Every public result class of thermopot follows one convention: a frozen dataclass built on
thermopot.results.Result whose to_dict is strict JSON (no NaN, arrays as lists) and whose fields use the
same names everywhere (T, backend, seconds, seed; converged with message; free_energy, not value)."""

import dataclasses
import importlib
import inspect
import json
import pkgutil
import warnings

import numpy as np
import pytest

import thermopot
from thermopot.results import Result, jsonable

#: field names that the convention spells otherwise (the wanted name in the message)
FORBIDDEN = {"value": "free_energy (or the potential's symbol)", "values": "free_energy (or the potential's symbol)",
             "time": "seconds", "elapsed": "seconds", "wall_time": "seconds", "runtime": "seconds",
             "duration": "seconds", "timing": "seconds", "rng": "seed (or generator for the algorithm)",
             "random_state": "seed", "temperature": "T", "temp": "T", "device": "backend", "xp": "backend",
             "success": "converged", "ok": "converged", "msg": "message", "status": "message"}
#: (class, field) pairs where a forbidden name means something else, with the reason
ALLOWED = {("Trajectory", "time"): "time in units of the learning rate (flow time), not wall-clock seconds"}
#: classes whose to_dict a synthetic instance cannot drive (it reads a model or a nested library): the real
#: instance is checked by strict json.dumps in the named test
ELSEWHERE = {"Library": "tests/test_knowledge_pipeline.py (KnowledgeRun nests it)",
             "Retrieval": "tests/test_knowledge_pipeline.py (KnowledgeRun nests it)",
             "KnowledgeRun": "tests/test_knowledge_pipeline.py::test_summary_holds_every_field_with_consistent_values",
             "EntropicLoss": "test_entropic_loss_to_dict_is_strict_json below",
             "ClaimRow": "tests/test_knowledge_claims.py (every row's to_dict)",
             "ClaimTable": "tests/test_knowledge_claims.py (json.dumps of the table)",
             "SampledKnowledgeRun": "tests/test_knowledge_sampled_pipeline.py::test_every_exact_row_is_in_the_sampled_json",
             "MatchedMinima": "tests/test_knowledge_mean_field_match.py::test_a_minimum_of_no_bound_state_is_reported_unmatched"}


def _public_modules():
    for info in pkgutil.walk_packages(thermopot.__path__, "thermopot."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]) and ".cuda" not in info.name:
            yield importlib.import_module(info.name)


def result_classes() -> dict[str, type]:
    """Every class reachable from a public thermopot module that has a ``to_dict`` method."""
    found = {}
    for module in _public_modules():
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and obj.__module__.startswith("thermopot") and not name.startswith("_")
                    and callable(getattr(obj, "to_dict", None)) and obj is not Result):
                found[obj.__name__] = obj
    return found


CLASSES = result_classes()


def test_the_walk_finds_the_results():
    assert len(CLASSES) >= 34
    assert {"Thermo", "Minima", "MeanFieldMinima", "SampleResult", "FitResult", "KnowledgeRun", "Check",
            "GibbsPotential"} <= set(CLASSES)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)
    public = {c.__name__ for c in subclasses(Result) if c.__module__.startswith("thermopot.")
              and not any(part.startswith("_") for part in c.__module__.split("."))}
    assert public <= set(CLASSES)  # every result of a public module (private ones are not the API)


def problems(cls: type) -> list[str]:
    """What in ``cls`` breaks the convention (empty when nothing does)."""
    name = cls.__name__
    if not (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen):
        return [f"{name} is not a frozen dataclass"]
    out = [] if issubclass(cls, Result) else [f"{name} is not built on thermopot.results.Result"]
    names = [f.name for f in dataclasses.fields(cls)]
    out += [f"{name}.{field}: the convention's name is {FORBIDDEN[field]}" for field in names
            if field in FORBIDDEN and (name, field) not in ALLOWED]
    if "converged" in names and "message" not in names:
        out.append(f"{name} has converged but no message")
    return out


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_frozen_result_with_the_conventional_field_names(name):
    assert problems(CLASSES[name]) == []


def test_the_check_catches_a_class_off_the_convention():
    @dataclasses.dataclass(frozen=True)
    class Bad:
        value: float
        elapsed: float
        converged: bool

        def to_dict(self):
            return {}

    assert len(problems(Bad)) == 4
    assert problems(dataclasses.dataclass(type("Mutable", (), {"__annotations__": {"T": float}}))) == \
        ["Mutable is not a frozen dataclass"]


def _synthetic(annotation: str, depth: int = 0):
    """A value of the annotated type with the awkward cases (NaN, inf, NumPy scalars, nesting)."""
    a = annotation.replace(" ", "")
    if "ndarray" in a:
        return np.array([np.nan, np.inf, 1.5])
    if a.startswith("dict"):
        return {1: np.array([[np.nan, -np.inf]]), "x": np.float32(0.5)}
    if a.startswith(("tuple", "list")):
        return (np.float64(np.nan), None, np.int64(2))
    if a.startswith("float") or "float" in a.split("|"):
        return np.float64(np.nan)
    if a.startswith("int"):
        return np.int64(3)
    if a.startswith("bool"):
        return np.bool_(True)
    if a.startswith("str"):
        return "x"
    target = CLASSES.get(a.split("|")[0])
    if target is not None and depth < 2 and target.to_dict is Result.to_dict:
        return _instance(target, depth + 1)
    return None


def _instance(cls: type, depth: int = 0):
    return cls(**{f.name: _synthetic(str(f.type), depth) for f in dataclasses.fields(cls)})


SYNTHETIC = sorted(n for n, c in CLASSES.items() if n not in ELSEWHERE
                   and (c.to_dict is Result.to_dict or n in ("ReducedMinima", "RareScan", "PatternFrequencies",
                                                              "SampledBoundStates")))


def test_the_synthetic_set_is_most_classes():
    assert len(SYNTHETIC) >= 18


@pytest.mark.parametrize("name", SYNTHETIC)
def test_to_dict_is_strict_json_with_nan_and_arrays(name):
    r = _instance(CLASSES[name])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the base's to_dict reads no deprecated name
        out = r.to_dict()
    text = json.dumps(jsonable(out), allow_nan=False)
    assert json.loads(text) == out  # to_dict is already JSON values
    public = {f.name for f in dataclasses.fields(r) if not f.name.startswith("_") and f.name not in r._omit}
    if type(r).to_dict is Result.to_dict:
        assert public == set(out) - {name for name in out if isinstance(getattr(type(r), name, None), property)}
    nan_field = next((f.name for f in dataclasses.fields(r) if str(f.type) == "float"), None)
    if nan_field is not None and nan_field in out:
        assert out[nan_field] == (None if r._null_nonfinite else "nan")


@pytest.fixture(scope="module")
def computed():
    """Small real results of every class whose to_dict has its own layout (N = 6)."""
    from thermopot.exact import thermodynamics
    from thermopot.learning import fit, fit_mixture, sample_exact
    from thermopot.landscape import local_minima
    from thermopot.models import curie_weiss, sk
    from thermopot.report import Check
    from thermopot.sampling import exact_first_passage, first_passage, sample
    from thermopot.solvers import compare_with_exact, follow_minima

    m = sk(6, seed=0)
    data = sample_exact(m, 200, seed=7)
    comparison = compare_with_exact(m, 0.3, starts=16, seed=1)
    mixture = fit_mixture(data, 2, seed=8, max_iter=3)
    branches = follow_minima(curie_weiss(6), np.linspace(0.6, 1.2, 4), starts=8, seed=2)
    return {"Landscape": local_minima(m, T=0.5), "MeanFieldMinima": comparison.minima, "ExactComparison": comparison,
            "Branches": branches, "Branch": branches.branches[0],
            "SampleResult": sample(m, 0.8, chains=2, sweeps=10, seed=3, correlations=True, progress=False),
            "FirstPassage": first_passage(m, 0.8, np.ones(6), threshold=0.5, max_updates=1, chains=2, seed=4),
            "ExactPassage": exact_first_passage(m, 0.8, np.ones(6), threshold=0.5),
            "FitResult": fit(data, "pseudo"), "MixtureFit": mixture, "Mixture": mixture.mixture,
            "Check": Check.compare("nan check", np.array([np.nan, 1.0]), np.array([0.0, 1.0]), 0.1),
            "Thermo": thermodynamics(m, 0.7, progress=False)}


def test_every_class_is_checked_somewhere(computed):
    assert set(CLASSES) <= set(SYNTHETIC) | set(computed) | set(ELSEWHERE)


@pytest.mark.parametrize("name", ["Landscape", "MeanFieldMinima", "ExactComparison", "Branches", "Branch",
                                  "SampleResult", "FirstPassage", "ExactPassage", "FitResult", "MixtureFit", "Mixture", "Check", "Thermo"])
def test_computed_to_dict_is_strict_json(computed, name):
    r = computed[name]
    assert type(r).__name__ == name
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        out = r.to_dict()
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_a_nan_in_a_hand_written_layout_becomes_a_string(computed):
    """FirstPassage with no chain escaping has mean NaN and mean_censored inf: strict JSON all the same."""
    out = computed["FirstPassage"].to_dict()
    assert out["hits"] == 0 and out["mean"] == "nan" and out["mean_censored"] == "inf"
    assert computed["Check"].to_dict()["difference"] == "inf"  # a NaN in theory: the difference is inf


def test_entropic_loss_to_dict_is_strict_json():
    sp = pytest.importorskip("sympy")
    from thermopot.symbolic.entropic import entropic_loss

    a = sp.Symbol("a")
    out = entropic_loss((a - 1) ** 2 / 2, [a]).to_dict()
    assert json.loads(json.dumps(out, allow_nan=False)) == out and out["params"] == ["a"]


@pytest.mark.parametrize("cls_name, old, new", [("GibbsPotential", "value", "free_energy"),
                                                ("PhiMinima", "values", "Phi"), ("PhiMinima", "thetas", "points"),
                                                ("ReducedMinima", "thetas", "points"),
                                                ("SampleResult", "rng", "generator")])
def test_renamed_fields_keep_their_old_name_for_one_release(cls_name, old, new):
    cls = CLASSES[cls_name]
    r = _instance(cls) if cls.to_dict is Result.to_dict else None
    assert new in {f.name for f in dataclasses.fields(cls)} and old not in {f.name for f in dataclasses.fields(cls)}
    if r is None:  # SampleResult: a hand-written layout
        r = cls(**{f.name: (np.array([0.5]) if "ndarray" in str(f.type) else {} if "dict" in str(f.type) else
                            "philox" if f.name == "generator" else () if f.name == "warnings" else 1)
                    for f in dataclasses.fields(cls)})
    with pytest.warns(DeprecationWarning, match=f"{cls_name}.{old} is deprecated.*use .{new}"):
        old_value = getattr(r, old)
    assert old_value is getattr(r, new)
    out = r.to_dict()
    assert out[old] == out[new]


# ------------------------------------------------------------------ one result for many starts (solvers.result)
MINIMA_TYPES = {"MeanFieldMinima": "free_energy", "PhiMinima": "Phi", "ReducedMinima": "G", "FullMinima": "G"}


def _toy_minima():
    """A base Minima by hand: 3 points (minimum, saddle, minimum), 5 starts (one failed, one at each point,
    two at the first)."""
    from thermopot.solvers import Minima

    return Minima(points=np.array([[0.5, 0.5], [0.0, 0.0], [-0.5, -0.5]]),
                  kind=np.array(["minimum", "saddle", "minimum"]), start_point=np.array([0, 0, 2, -1, 1]),
                  converged=np.array([True, True, True, False, True]), T=0.7, iterations=4, seconds=0.1,
                  backend="numpy", seed=3, message="4 of 5 starts converged")


def test_every_multistart_result_is_a_minima_with_its_objective_named():
    from thermopot.solvers import Minima
    from thermopot.solvers.result import Minima as base

    assert Minima is base and Minima is CLASSES["Minima"]
    shared = {f.name for f in dataclasses.fields(Minima)}
    assert {"points", "kind", "start_point", "converged", "T", "iterations", "seconds", "backend", "seed",
            "message"} == shared
    for name, objective in MINIMA_TYPES.items():
        cls = CLASSES[name]
        assert issubclass(cls, Minima) and cls.objective_name == objective
        own = {f.name for f in dataclasses.fields(cls)} - shared
        assert objective in own and set(cls.per_point) <= own  # the shared fields are declared once, in the base
        assert not own & {"count", "starts", "thetas", "m", "basin_fraction", "is_minimum"}
        r = _instance(cls)
        assert r.objective is getattr(r, objective)


def test_the_base_derives_counts_fractions_and_records():
    r = _toy_minima()
    assert (r.count, r.saddles, r.starts, r.failed) == (2, 1, 5, 1)
    np.testing.assert_array_equal(r.is_minimum, [True, False, True])
    np.testing.assert_array_equal(r.basin_count, [2, 1, 1])
    np.testing.assert_array_equal(r.basin_fraction, [0.4, 0.2, 0.2])  # of all 5 starts, the failed one too
    records = list(r)
    assert [rec["kind"] for rec in records] == ["minimum", "saddle", "minimum"]
    assert set(records[0]) == {"point", "kind", "basin_fraction"}  # the base names no objective
    assert [rec["point"].tolist() for rec in r.minima()] == [[0.5, 0.5], [-0.5, -0.5]]
    out = r.to_dict()
    assert out["count"] == 2 and out["starts"] == 5 and out["seed"] == 3 and out["kind"][1] == "saddle"
    assert "count=2," in r.summary() and "starts=5," in repr(r)


def test_the_derived_counts_are_not_a_copy_of_the_fields():
    """A mistake the base must not hide: a start that ended nowhere (-1) counted in a basin, or a failed
    start counted as converged."""
    r = _toy_minima()
    moved = dataclasses.replace(r, start_point=np.array([0, 0, 2, 1, 1]), converged=np.ones(5, dtype=bool))
    assert moved.basin_count.tolist() == [2, 2, 1] != r.basin_count.tolist() and moved.failed == 0 != r.failed


def test_find_minima_records_against_its_own_arrays(computed):
    r = computed["MeanFieldMinima"]
    rows = r.to_dict()["minima"]
    assert len(rows) == r.count == int(np.sum(r.kind == "minimum"))
    np.testing.assert_array_equal(r.basin_count, np.bincount(r.start_point[r.start_point >= 0],
                                                             minlength=len(r.points)))
    for a, row in zip(np.flatnonzero(r.is_minimum), rows):
        assert row["point"] == row["m"] == r.points[a].tolist() and row["free_energy"] == r.free_energy[a]
        assert row["kind"] == "minimum" and row["basin_fraction"] == r.basin_fraction[a]
    with pytest.warns(DeprecationWarning, match=r"MeanFieldMinima.m is deprecated.*use .points"):
        assert r.m is r.points


def test_find_minima_records_an_integer_seed_not_a_generator():
    from thermopot.models import curie_weiss
    from thermopot.solvers import find_minima

    assert find_minima(curie_weiss(4), 0.5, starts=4, seed=5).seed == 5
    assert find_minima(curie_weiss(4), 0.5, starts=4, seed=np.random.default_rng(5)).seed is None
    assert find_minima(curie_weiss(4), 0.5, starts=4).seed is None


# ------------------------------------------------------------------ seeds (SPEC 7) and keyword-only options
#: functions whose subject is the seed itself (it stays positional)
SEED_SUBJECT = {"check_rng", "check_seed", "resolve_seed", "philox_key"}
#: rng= kept as the deprecated former name of generator=; the entropic protocol methods and the compiled sweep
#: kernels take the caller's numpy.random.Generator object (already resolved from a seed)
RNG_ALLOWED = {"Sampler.__init__", "sample", "first_passage", "sample_task", "DataSource.draw", "FiniteData.draw",
               "LinearTeacher.draw", "DeepLinear.init", "ReluNet.init", "ScalarToy.init", "TwoLayerLinear.init",
               "CompiledPairwiseKernel.__init__", "CompiledMultiSpinKernel.__init__"}
#: required inputs after (model, T), not options: they stay positional
MODEL_T_INPUTS = {"restricted_free_energies": ["labels"], "first_passage": ["initial"], "chunk_stats": ["high"],
                  "exact_first_passage": ["initial"]}


def public_callables():
    """(qualified name, signature) of the public API: the functions, methods and constructors named in the
    modules' ``__all__`` (dataclasses left out)."""
    seen = set()
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if id(obj) in seen or not getattr(obj, "__module__", "").startswith("thermopot"):
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj):
                yield name, inspect.signature(obj)
            elif inspect.isclass(obj) and not dataclasses.is_dataclass(obj):
                for attr, f in vars(obj).items():
                    if inspect.isfunction(f) and (attr == "__init__" or not attr.startswith("_")):
                        yield f"{name}.{attr}", inspect.signature(f)


CALLABLES = dict(public_callables())


def signature_problems(name: str, sig: inspect.Signature) -> list[str]:
    out = []
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if "seed" in positional and name not in SEED_SUBJECT:
        out.append(f"{name}: seed is not keyword-only")
    if any(p.name in ("rng", "random_state") for p in params) and name not in RNG_ALLOWED:
        out.append(f"{name}: a random-number parameter not named seed (or generator)")
    if positional[:2] == ["model", "T"] and positional[2:] != MODEL_T_INPUTS.get(name, []):
        out.append(f"{name}: {positional[2:]} after (model, T) are not keyword-only")
    return out


def test_the_signature_walk_finds_the_entry_points():
    assert {"find_minima", "sample", "thermodynamics", "sk", "mean_field", "follow_minima", "fit_mixture"} <= set(CALLABLES)


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_seeds_and_options_are_keyword_only(name):
    assert signature_problems(name, CALLABLES[name]) == []


def test_the_signature_check_catches_positional_options():
    def bad(model, T, method="tap2", seed=None, rng=None):
        pass

    assert len(signature_problems("bad", inspect.signature(bad))) == 3


def test_positional_use_of_a_now_keyword_only_parameter_warns_for_one_release():
    from thermopot.datasets import random_patterns_dataset
    from thermopot.meanfield import mean_field
    from thermopot.models import sk

    with pytest.warns(DeprecationWarning, match="sk: pass seed, j by keyword"):
        old = sk(6, 3, 0.5)
    new = sk(6, seed=3, j=0.5)
    assert np.array_equal(old.J, new.J) and np.array_equal(old.h, new.h)
    with pytest.warns(DeprecationWarning, match="random_patterns_dataset: pass seed"):
        assert np.array_equal(random_patterns_dataset(5, 4, None, 2).samples,
                              random_patterns_dataset(5, 4, seed=2).samples)
    with pytest.warns(DeprecationWarning, match="mean_field: pass order"):
        pot = mean_field(new, 1.0, 3)
    m = np.full(6, 0.2)
    assert pot.value(m) == mean_field(new, 1.0, order=3).value(m)
    with pytest.raises(TypeError, match="multiple values for argument 'seed'"):
        sk(6, 3, seed=3)
    with pytest.raises(TypeError, match="at most 4 positional"):
        sk(6, 3, 0.5, 0.1, 9)
