"""The server harness (harness/) does what tests rely on: several gunicorns behind one
Nginx upstream, one of them under faketime, stopped gracefully or killed outright."""

import datetime as dt
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from harness.nginx import start_nginx
from harness.servers import start_gunicorn
from tests.servers import app_environment
from tests.tools import tool

pytestmark = pytest.mark.django_db(transaction=True)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_two_gunicorns_behind_one_nginx_one_a_day_ahead_then_stopped_and_killed(tmp_path):
    nginx = tool("nginx", "apt-get install nginx-light")
    openssl = tool("openssl", "apt-get install openssl")
    faketime = tool("faketime", "apt-get install faketime")
    env = app_environment(DJANGO_ALLOWED_HOSTS="portal.test,127.0.0.1")
    with (
        start_gunicorn(env) as today,
        start_gunicorn(env, prefix_cmd=[faketime, "-f", "+1d"]) as tomorrow,
        start_nginx(
            [today.address, tomorrow.address], directory=tmp_path, nginx=nginx, openssl=openssl
        ) as edge,
    ):
        # gunicorn's Date header is its own clock's.
        dates = [parsedate_to_datetime(s.get("/play/").headers["Date"]) for s in (today, tomorrow)]
        assert dt.timedelta(hours=23) < dates[1] - dates[0] < dt.timedelta(hours=25)
        # faketime forks: the harness knows gunicorn's own master, and its workers.
        assert tomorrow.pid != tomorrow.process.pid
        assert len(tomorrow.worker_pids()) == 2

        answers = [edge.https("/play/") for _ in range(4)]
        assert {answer.status for answer in answers} == {400}
        access_log = (tmp_path / "nginx-access.log").read_text()
        for server in (today, tomorrow):
            assert f"upstream={server.address} " in access_log

        doomed = [tomorrow.pid, *tomorrow.worker_pids()]
        tomorrow.kill()
        assert not any(alive(pid) for pid in doomed)
        today.stop()
        assert today.process.returncode == 0  # gunicorn's own graceful exit
    assert not edge.running()
