"""scripts/campaign_insure.sh: one pass compacts a running session's checkpoint into the tracked state
and commits exactly that state and the log copy, with the campaign totals carried from the prior."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jpegai_fast.training import state as campaign_state
from jpegai_fast.training.train import parse_args, train

from helpers import tiny_run_cli, training_images

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "campaign_insure.sh"

pytestmark = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def _env():
    return {**os.environ, "PYTHON": sys.executable, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def _repo(tmp_path):
    """A repository holding the script, one commit, and a user's uncommitted edit."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "training").mkdir()
    (repo / "docs" / "training_logs").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts")
    (repo / "other.txt").write_text("a user's edit in progress\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "scripts", "other.txt")
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "start"], check=True, env=_env())
    (repo / "other.txt").write_text("changed, not to be committed by the script\n")
    return repo


def _session(tmp_path):
    """A prior state (3 steps) outside the repository, and a second session's run (3 more) from it."""
    data = tmp_path / "data"
    training_images(data)
    prior = tmp_path / "prior.pt"
    train(parse_args(tiny_run_cli(data, tmp_path / "s1", "--save-state", str(prior))))
    train(parse_args(tiny_run_cli(data, tmp_path / "s2", "--resume-state", str(prior))))
    return prior, tmp_path / "s2"


def _insure(repo, *args):
    return subprocess.run(["bash", str(repo / "scripts" / "campaign_insure.sh"), *args],
                          capture_output=True, text=True, env=_env(), timeout=300)


def test_one_pass_commits_the_compacted_state_and_the_log_only(tmp_path):
    repo = _repo(tmp_path)
    prior, run = _session(tmp_path)
    r = _insure(repo, str(run), str(prior), "campaign_test_log.csv", "test session", "0")
    assert r.returncode == 0, r.stderr
    changed = _git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == ["docs/training_logs/campaign_test_log.csv", "training/light_state.pt"]
    assert " M other.txt" in _git(repo, "status", "--porcelain")
    state = campaign_state.load(repo / "training" / "light_state.pt")
    assert state["campaign"]["total_steps"] == 6 and len(state["campaign"]["sessions"]) == 2
    assert "test session" in state["campaign"]["sessions"][-1]["note"]
    assert (repo / "docs/training_logs/campaign_test_log.csv").read_bytes() == (run / "log.csv").read_bytes()


def test_a_prior_inside_the_repository_or_missing_arguments_are_refused(tmp_path):
    repo = _repo(tmp_path)
    inside = repo / "training" / "prior.pt"
    inside.write_bytes(b"a state")
    r = _insure(repo, str(tmp_path), str(inside), "x.csv", "n", "0")
    assert r.returncode == 2 and "outside the repository" in r.stderr
    r = _insure(repo, str(tmp_path))
    assert r.returncode == 2 and "RUN_DIR" in r.stderr
    assert _git(repo, "log", "--format=%s").split("\n")[0] == "start"
