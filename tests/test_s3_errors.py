"""The storage errors a user meets, from a real S3 protocol server on loopback: a
bucket that refuses writes (moto enforcing an IAM policy), a profile file against
keys in the environment, a profile that is not there, an endpoint that is down.
Each is one line and exit 2, with no traceback and no secret."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from PIL import Image

from fixtures.s3server import FAKE_SECRET_ACCESS_KEY
from igpreflight.cli import cli
from tests.s3_support import IamS3, moto_enforcing_iam, s3server  # noqa: F401 - a fixture

READ = ["s3:ListBucket", "s3:GetObject"]
ENGINES = {"local": [], "dask": ["--engine", "dask", "--workers", "2"]}
# May list every bucket, and read the objects of iam-ok only.
LISTER: list[dict[str, object]] = [
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::iam-ok/*"},
]
EVERY_READ_REFUSED = (
    "igpreflight: error: access denied reading every object (12) of bucket 'iam-in': the "
    "credentials may list them but not read them; grant them s3:GetObject"
)


def _png(width: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, 600), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def iam(tmp_path_factory) -> Iterator[IamS3]:
    objects = {f"iam-in/shoot {i:02d}.png": _png(1500 + i) for i in range(12)}
    for engine in ENGINES:  # an output bucket each (moto's auth mis-signs a '/' in a prefix)
        objects[f"iam-out-{engine}/.keep"] = b""
    objects["iam-ok/readable.png"] = _png(1080)
    users = {"reader": READ, "writer": [*READ, "s3:PutObject"], "lister": LISTER}
    with moto_enforcing_iam(objects, users) as s:
        yield s


def run(args: list[str], env: dict[str, str | None]):
    return CliRunner().invoke(cli, args, env=env)


def _env(iam: IamS3, user: str, tmp_path) -> dict[str, str | None]:  # noqa: ANN001
    return {
        **iam.env(user),
        "AWS_ENDPOINT_URL_S3": iam.endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PROFILE": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_a_bucket_that_refuses_writes_stops_fix_at_once_with_exit_2(iam, tmp_path, engine):
    """Read-only keys on --out: every output would be refused alike, so the first
    refusal ends the run (exit 2, one line), instead of fixing every file to fail
    its upload (exit 1 and a `failed` line per file, after all the work)."""
    out = f"iam-out-{engine}"
    args = ["fix", "s3://iam-in/", "--out", f"s3://{out}/", *ENGINES[engine]]
    r = run(args, _env(iam, "reader", tmp_path))
    assert r.exit_code == 2, r.output
    errors = [line for line in r.output.splitlines() if "error" in line]
    assert errors == [
        f"igpreflight: error: access denied to bucket '{out}' (check the credentials' permissions)"
    ]
    assert "failed" not in r.output and "Traceback" not in r.output
    assert iam.keys["reader"][1] not in r.output
    # The same files with keys that may write: the refusal was the only problem.
    r = run(args, _env(iam, "writer", tmp_path))
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == "12 files: 12 converted"


def test_keys_from_a_profile_file_or_the_environment(iam, tmp_path):
    """Keys in a profile of a credentials file work as the same keys in the environment;
    a profile's unknown key or a missing profile is one line, exit 2."""
    key_id, secret = iam.keys["reader"]
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[shoot]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
        "[stale]\naws_access_key_id = AKIAIGPFSTALE0000000\n"
        "aws_secret_access_key = stale-secret-never-printed-0123456789\n"
    )
    env = {
        **_env(iam, "reader", tmp_path),
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(creds),
    }
    from_env = run(["check", "s3://iam-in/"], _env(iam, "reader", tmp_path))
    from_profile = run(["check", "s3://iam-in/"], {**env, "AWS_PROFILE": "shoot"})
    assert from_profile.exit_code == from_env.exit_code == 1  # the PNGs' findings
    assert from_profile.output == from_env.output
    stale = run(["check", "s3://iam-in/"], {**env, "AWS_PROFILE": "stale"})
    assert stale.exit_code == 2
    assert "error: the AWS access key id is not known to this endpoint" in stale.output
    assert "stale-secret" not in stale.output


@pytest.mark.parametrize(
    "args",
    [
        ["check", "s3://bucket/in/"],
        ["fix", "s3://bucket/in/", "--out", "s3://bucket/out/"],
        ["upload", "{image}", "--bucket", "bucket"],
    ],
    ids=["check", "fix", "upload"],
)
def test_a_profile_that_is_not_there_is_one_line_exit_2(s3server, tmp_path, args):  # noqa: F811
    """AWS_PROFILE naming no profile: a setup error like missing keys (upload said
    `upload failed` and exited 1, as for one bad file)."""
    image = tmp_path / "ok.jpg"
    Image.new("RGB", (1080, 1350)).save(image, quality=90)
    env = {"AWS_PROFILE": "no-such-profile", "AWS_ACCESS_KEY_ID": None}
    r = run([a.format(image=image) for a in args], {**env, "AWS_SECRET_ACCESS_KEY": None})
    assert r.exit_code == 2, r.output
    assert (
        "igpreflight: error: AWS profile 'no-such-profile' is not in the AWS config files"
        in r.output
    )
    assert "Traceback" not in r.output


def test_an_endpoints_password_never_reaches_the_output(s3server):  # noqa: F811
    """botocore quotes the whole request URL when it cannot connect, user:password@
    of the endpoint included; the one line names the endpoint's origin alone."""
    r = run(
        ["check", "s3://bucket/in/", "--endpoint-url", "http://ops:hunter2-s3-pass@127.0.0.1:9"],
        {"AWS_MAX_ATTEMPTS": "1"},  # the message is the test, not boto3's retries of port 9
    )
    assert r.exit_code == 2
    assert "igpreflight: error: cannot reach the S3 endpoint http://127.0.0.1:9\n" in r.output
    assert "hunter2" not in r.output and FAKE_SECRET_ACCESS_KEY not in r.output


def test_objects_whose_get_is_refused_say_so_and_what_to_grant(iam, tmp_path):
    """Keys that may list a bucket but not GET its objects made each object FILE001
    'cannot read the file as media: ... access denied to bucket' with the to-do
    'replace the file', which would not help. Each is FILE002 now, naming the key and
    bucket, with s3:GetObject to grant, and a batch refused whole says so once."""
    env = _env(iam, "lister", tmp_path)
    r = run(["check", "s3://iam-in/"], env)
    assert r.exit_code == 1, r.output
    assert r.stdout.count("FILE002") == 12 and "FILE001" not in r.stdout
    assert "access denied reading object 'shoot 03.png' of bucket 'iam-in'" in r.stdout
    assert r.stdout.count("to do: grant the credentials s3:GetObject on the object") == 12
    assert "replace the file" not in r.stdout
    assert r.stderr.splitlines() == [EVERY_READ_REFUSED]
    fixed = run(["fix", "s3://iam-in/", "--out", str(tmp_path / "out")], env)
    assert fixed.exit_code == 1 and fixed.stdout.count(": unfixable: FILE002 access denied") == 12
    assert fixed.stdout.count("; to do: grant the credentials s3:GetObject") == 12, fixed.stdout
    assert fixed.stderr.splitlines() == [EVERY_READ_REFUSED]
    # Some objects readable: each refused one says so, and no line blames the batch.
    mixed = run(["check", "--format", "json", "s3://iam-in/", "s3://iam-ok/"], env)
    files = json.loads(mixed.stdout)["files"]
    rules = {f["path"]: [x["rule"] for x in f["findings"]] for f in files}
    assert not {"FILE001", "FILE002"} & set(rules.pop("s3://iam-ok/readable.png"))
    assert set(map(tuple, rules.values())) == {("FILE002",)} and len(rules) == 12
    assert mixed.stderr == ""
