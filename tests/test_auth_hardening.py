"""Issue 8, M2-M4 and two Low items, over real HTTP: the upload API tells a staff user nothing about datasets they
may not see; failed sign-ins are limited per account+address and per address, locked tries cost no password
check, and password checks are capped; production refuses a missing or public signing key; the generated admin
password is never printed; a chunked upload is told that a length is required."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from axes.models import AccessAttempt
from axes.utils import reset as reset_sign_in_failures
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token

from layers.models import Dataset, ImportJob
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset
from sdi.security.login_slots import LOCK_NAMESPACE
from tests.conftest import REPO, database_url_for_servers, free_port
from tests.imports_made import discard_job

PREFIX = "ah-"  # every user and dataset made here starts with it
FIELDS = {"title_vi": "Trạm bơm", "title_en": "Pumping stations", "sector": "water",
          "licence_name": "CC BY 4.0", "attribution": "Sở Nông nghiệp Cần Thơ (thử nghiệm)"}
PASSWORD = "right-password"
LIMIT = settings.AXES_FAILURE_LIMIT


def points(path: Path) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"ten": "Trạm bơm Cái Sơn"},
         "geometry": {"type": "Point", "coordinates": [105.77, 10.03]}}]}, ensure_ascii=False), "utf-8")
    return path


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two staff users who may not see the owner's restricted and unpublished datasets."""
    data = points(tmp_path_factory.mktemp("auth") / "points.geojson")
    with django_db_blocker.unblock():
        users = {name: User.objects.create_user(f"{PREFIX}{name}", password=PASSWORD, is_staff=True)
                 for name in ("alice", "bob", "carol", "owner")}
        tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
        for slug, access in ((f"{PREFIX}restricted", "restricted"), (f"{PREFIX}unpublished", "public")):
            meta = DatasetMetadata(**{**FIELDS, "access_level": access})
            dataset = import_vector_dataset(data, slug=slug, metadata=meta, user=users["owner"]).dataset
            dataset.owners.add(users["owner"])
        Dataset.objects.filter(slug=f"{PREFIX}unpublished").update(published=False)
        yield {"users": users, "tokens": tokens, "data": data}
        for job in ImportJob.objects.filter(slug__startswith=PREFIX):
            discard_job(job)
        for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
            delete_dataset(slug)
        User.objects.filter(username__startswith=PREFIX).delete()


@pytest.fixture
def accounts(people, committed_db):
    """Committed database access with no sign-in failures recorded before or after the test (axes' own reset)."""
    reset_sign_in_failures()
    yield people
    reset_sign_in_failures()
    for job in ImportJob.objects.filter(slug__startswith=PREFIX):
        discard_job(job)


def with_env(**changes) -> dict:
    env = {**os.environ, **{k: v for k, v in changes.items() if v is not None}}
    for name in [k for k, v in changes.items() if v is None]:
        env.pop(name, None)
    return env


# --- M2: the upload API and datasets the user may not see -----------------------------------------------------

def upload(server, token, data: Path, url="/api/datasets", **fields):
    return requests.post(f"{server}{url}", headers={"Authorization": f"Token {token}"}, data=fields,
                         files={"file": (data.name, data.read_bytes(), "application/geo+json")}, timeout=30)


def answer(response, slug):
    """Status and body with the slug taken out: what may not differ between a hidden and a free slug."""
    return response.status_code, response.text.replace(slug, "<slug>")


BAD_REQUESTS = {
    "unknown sector": {**FIELDS, "sector": "no-such-sector"},
    "unknown agency": {**FIELDS, "agency": "no-such-agency"},
    "unknown CRS": {**FIELDS, "crs": "EPSG:999999"},
    "unknown encoding": {**FIELDS, "encoding": "klingon"},
    "missing title": {k: v for k, v in FIELDS.items() if k != "title_en"},
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_upload_gets_the_same_answer_whether_or_not_a_hidden_dataset_holds_the_slug(server, accounts, case):
    token, data = accounts["tokens"]["alice"], accounts["data"]
    jobs = ImportJob.objects.count()
    answers = {slug: answer(upload(server, token, data, slug=slug, **BAD_REQUESTS[case]), slug)
               for slug in (f"{PREFIX}restricted", f"{PREFIX}unpublished", f"{PREFIX}free")}
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values()))[0] == 400
    assert ImportJob.objects.count() == jobs


def test_a_good_upload_on_a_hidden_slug_learns_only_that_the_slug_is_taken(server, accounts):
    token, data = accounts["tokens"]["alice"], accounts["data"]
    hidden = {slug: upload(server, token, data, slug=slug, **FIELDS)
              for slug in (f"{PREFIX}restricted", f"{PREFIX}unpublished")}
    assert len({answer(response, slug) for slug, response in hidden.items()}) == 1
    refused = hidden[f"{PREFIX}restricted"]
    assert refused.status_code == 400
    assert refused.json() == {"detail": f"slug '{PREFIX}restricted' is already taken: choose another slug"}
    # Replacing: a hidden dataset is answered exactly like one that does not exist.
    replaced = {slug: answer(upload(server, token, data, url=f"/api/datasets/{slug}/replace"), slug)
                for slug in (f"{PREFIX}restricted", f"{PREFIX}unpublished", f"{PREFIX}free")}
    assert len(set(replaced.values())) == 1 and next(iter(replaced.values()))[0] == 404
    # The owner, who sees both, is told what they are.
    owner = upload(server, accounts["tokens"]["owner"], data, slug=f"{PREFIX}unpublished", **FIELDS)
    assert owner.json() == {"detail": f"dataset '{PREFIX}unpublished' already exists (replace it explicitly)"}
    free = upload(server, token, data, slug=f"{PREFIX}free", **FIELDS)
    assert free.status_code == 202


# --- Low: chunked uploads -------------------------------------------------------------------------------------

def test_a_chunked_upload_is_told_that_a_content_length_is_required(server, accounts):
    def body():
        yield b"--x\r\nContent-Disposition: form-data; name=\"slug\"\r\n\r\nah-chunked\r\n--x--\r\n"

    response = requests.post(f"{server}/api/datasets", data=body(), timeout=30, headers={
        "Authorization": f"Token {accounts['tokens']['alice']}", "Content-Type": "multipart/form-data; boundary=x"})
    assert "Content-Length" not in response.request.headers
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 411
    assert response.json() == {"detail": "send the upload with a Content-Length header: chunked transfer encoding "
                                         "is not supported (curl -F and requests set Content-Length themselves)"}


# --- M3: sign-in limits -------------------------------------------------------------------------------------------

def set_old_hash(user: User) -> str:
    """Store the password with fewer PBKDF2 iterations than Django's: checking it (and finding it right) makes
    Django save a new hash, so an unchanged hash proves that the password was not checked at all."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])
    return user.password


def stored_hash(user: User) -> str:
    return User.objects.get(pk=user.pk).password


def admin_sign_in(server, username, password, headers=None) -> requests.Response:
    session = requests.Session()
    session.get(f"{server}/admin/login/", timeout=30)
    return session.post(f"{server}/admin/login/", allow_redirects=False, timeout=30, headers=headers or {}, data={
        "username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]})


def token_sign_in(server, username, password, headers=None) -> requests.Response:
    return requests.post(f"{server}/api/token", data={"username": username, "password": password},
                         headers=headers or {}, timeout=30)


SIGNED_IN = {admin_sign_in: 302, token_sign_in: 200}


@pytest.mark.parametrize("sign_in", [admin_sign_in, token_sign_in], ids=["admin", "api-token"])
def test_after_n_wrong_passwords_the_account_is_locked_for_that_address_without_checking_passwords(
        server, accounts, sign_in):
    alice, bob = accounts["users"]["alice"], accounts["users"]["bob"]
    for _ in range(LIMIT):
        assert sign_in(server, alice.username, "wrong").status_code in (200, 400, 429)
    old_hash = set_old_hash(alice)
    locked = sign_in(server, alice.username, PASSWORD)  # the RIGHT password
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert "too many failed sign-ins" in locked.text and alice.username not in locked.text
    if sign_in is token_sign_in:
        assert list(locked.json()) == ["detail"]
    assert stored_hash(alice) == old_hash  # refused before the password was checked
    assert sign_in(server, bob.username, PASSWORD).status_code == SIGNED_IN[sign_in]  # another account still works

    reset_sign_in_failures(username=alice.username)  # what `manage.py axes_reset_username` does
    assert sign_in(server, alice.username, PASSWORD).status_code == SIGNED_IN[sign_in]
    assert stored_hash(alice) != old_hash  # the probe works: a checked password is re-hashed


def test_a_user_name_longer_than_any_account_is_a_400_not_a_crash_of_the_limits(server, accounts):
    response = token_sign_in(server, "a" * 300, "wrong")
    assert response.status_code == 400
    assert response.json() == {"detail": "username is longer than 150 characters"}


def test_an_address_is_locked_after_failures_spread_over_many_accounts(start_server, accounts, monkeypatch):
    monkeypatch.setenv("SDI_LOGIN_ADDRESS_FAILURE_LIMIT", str(LIMIT + 1))
    server = start_server()
    alice, bob, carol = (accounts["users"][name] for name in ("alice", "bob", "carol"))
    # LIMIT + 1 failures from one address, each account staying under its own limit: the last one locks it
    statuses = [token_sign_in(server, user.username, "wrong").status_code
                for user in [alice] * (LIMIT - 1) + [bob] * 2]
    assert statuses == [400] * LIMIT + [429]
    old_hash = set_old_hash(carol)
    assert token_sign_in(server, carol.username, PASSWORD).status_code == 429
    assert stored_hash(carol) == old_hash


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(server, start_server, accounts, monkeypatch):
    alice = accounts["users"]["alice"]

    def lock_out(server, forwarded):
        for _ in range(LIMIT):
            token_sign_in(server, alice.username, "wrong", {"X-Forwarded-For": forwarded})

    # Direct clients: the header is the client's own text and changes nothing.
    direct = server
    lock_out(direct, "203.0.113.7")
    assert token_sign_in(direct, alice.username, PASSWORD, {"X-Forwarded-For": "198.51.100.9"}).status_code == 429
    reset_sign_in_failures()

    # Behind nginx on this machine: the address nginx appended is the client's; what the client wrote is not.
    monkeypatch.setenv("SDI_TRUSTED_PROXIES", "127.0.0.1")
    proxied = start_server()
    lock_out(proxied, "10.0.0.1, 203.0.113.7")
    spoofed = token_sign_in(proxied, alice.username, PASSWORD, {"X-Forwarded-For": "10.0.0.2, 203.0.113.7"})
    assert spoofed.status_code == 429
    other = token_sign_in(proxied, alice.username, PASSWORD, {"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 200


def test_password_checks_beyond_the_cap_are_refused_after_a_short_wait_and_the_ogc_api_still_answers(server, accounts):
    alice = accounts["users"]["alice"]
    old_hash = set_old_hash(alice)
    with connection.cursor() as cursor:  # take every password-check slot, as hashing sign-ins would
        for slot in range(settings.SDI_LOGIN_CONCURRENCY):
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, slot])
        try:
            for sign_in in (token_sign_in, admin_sign_in):
                busy = sign_in(server, alice.username, PASSWORD)
                assert busy.status_code == 503 and busy.headers["Retry-After"]
                assert "too many sign-ins are being checked" in busy.text
            assert stored_hash(alice) == old_hash
            assert requests.get(f"{server}/ogcapi/collections/cantho-districts/items?limit=1",
                                timeout=30).status_code == 200
        finally:
            for slot in range(settings.SDI_LOGIN_CONCURRENCY):
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, slot])
    assert not AccessAttempt.objects.filter(username=alice.username).exists()  # "busy" is not a failure
    assert token_sign_in(server, alice.username, PASSWORD).status_code == 200


def test_a_sign_in_waits_briefly_for_a_slot_so_two_colleagues_at_once_both_get_in(server, accounts):
    """A slot freed within SLOT_WAIT_SECONDS serves the waiting sign-in instead of a 503."""
    import threading
    import time

    import psycopg

    from sdi.security.login_slots import SLOT_WAIT_SECONDS

    db = settings.DATABASES["default"]
    holder = psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"],
                             password=db["PASSWORD"], autocommit=True)
    try:
        for slot in range(settings.SDI_LOGIN_CONCURRENCY):
            holder.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, slot])
        release = threading.Timer(SLOT_WAIT_SECONDS / 3, holder.close)  # closing the session frees its locks
        release.start()
        started = time.monotonic()
        answer = token_sign_in(server, accounts["users"]["alice"].username, PASSWORD)
        release.join()
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started >= SLOT_WAIT_SECONDS / 3  # it really waited for the slot
    finally:
        holder.close()


# --- M4: the signing key --------------------------------------------------------------------------------------

def manage(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=with_env(DATABASE_URL=database_url_for_servers(), **env))


@pytest.mark.parametrize("key", [None, "", "CHANGE-ME", settings.DEV_SECRET_KEY])
def test_production_refuses_to_start_without_a_private_secret_key(django_db_setup, key):
    check = manage("check", "--deploy", SDI_SECRET_KEY=key, SDI_DEBUG="0")
    assert check.returncode != 0
    assert "SDI_SECRET_KEY is not set, or is a published example key: refusing to start" in check.stderr
    port = free_port()
    gunicorn = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(REPO / "deploy" / "gunicorn.conf.py")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env=with_env(DATABASE_URL=database_url_for_servers(), SDI_SECRET_KEY=key, SDI_DEBUG="0",
                     SDI_BIND=f"127.0.0.1:{port}", SDI_WORKERS="1", SDI_IMPORT_WORKER="0"))
    assert gunicorn.returncode != 0
    assert "refusing to start with debug off" in gunicorn.stdout + gunicorn.stderr


def test_check_deploy_fails_on_the_development_key(django_db_setup):
    check = manage("check", "--deploy", SDI_SECRET_KEY=None, SDI_DEBUG="1")
    assert check.returncode != 0 and "(sdi.E001) SECRET_KEY is a published key" in check.stderr
    assert "sdi.E001" not in manage("check", "--deploy", SDI_DEBUG="1").stderr  # make test's own key passes


def test_make_generates_a_private_key_once_outside_git(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    probe = ["make", "-s", "--eval", "probe: ; @printf %s \"$$SDI_SECRET_KEY\" | sha256sum", "probe"]

    def run():
        return subprocess.run(probe, cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              env=with_env(SDI_SECRET_KEY=None), check=True).stdout.split()[0]

    exported = run()
    key_file = tmp_path / ".sdi" / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert exported == hashlib.sha256(key.encode()).hexdigest()  # exported to every recipe
    assert run() == exported and key_file.read_text() == key  # made once
    ignored = subprocess.run(["git", "check-ignore", "-q", ".sdi/secret_key"], cwd=REPO)
    assert ignored.returncode == 0


# --- Low: the generated admin password ------------------------------------------------------------------------

def test_the_generated_admin_password_is_written_to_a_private_file_and_never_printed(accounts, tmp_path):
    superusers = list(User.objects.filter(is_superuser=True).values_list("pk", flat=True))
    User.objects.filter(pk__in=superusers).update(is_superuser=False)  # ensure_admin acts only when none exists
    try:
        password_file = tmp_path / "admin-password"
        result = manage("ensure_admin", SDI_ADMIN_USER=f"{PREFIX}first-admin", SDI_ADMIN_PASSWORD=None,
                        SDI_ADMIN_PASSWORD_FILE=str(password_file))
        assert result.returncode == 0, result.stderr
        password = password_file.read_text().strip()
        assert len(password) >= 12
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        assert password not in result.stdout + result.stderr
        assert str(password_file) in result.stdout
        assert User.objects.get(username=f"{PREFIX}first-admin").check_password(password)
        User.objects.filter(username=f"{PREFIX}first-admin").delete()

        # Nowhere to keep it (a read-only checkout in a container): no account, no password anywhere, a clear word.
        unwritable = manage("ensure_admin", SDI_ADMIN_USER=f"{PREFIX}first-admin", SDI_ADMIN_PASSWORD=None,
                            SDI_ADMIN_PASSWORD_FILE="/proc/no-such-dir/admin-password")
        assert unwritable.returncode == 0
        assert "no admin account created: cannot write the generated password" in unwritable.stderr
        assert not User.objects.filter(username=f"{PREFIX}first-admin").exists()
    finally:
        User.objects.filter(username=f"{PREFIX}first-admin").delete()
        User.objects.filter(pk__in=superusers).update(is_superuser=True)
