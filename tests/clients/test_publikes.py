"""The Publikes reference app (apps/publikes) end to end, through `publikes serve`: 2,000 statuses
liked concurrently by 8 clients (some twice, some by two clients) while rotate-batch runs every
few seconds with a short merge delay; then the list that `publikes read` walks, and the one an
unsigned reader walks from the bucket's public page, hold every accepted status exactly once, each
client's statuses in the order they arrived, and no head page is left unmerged. It runs once with
the objects in the local folder and once on an S3-compatible server (moto, as test_s3.py starts it),
there with 50 statuses a client instead of 250: moto serves one request at a time from Python, and
every insert is about eight object reads and writes, so 2,000 statuses would take CI a quarter of
an hour for no logic the smaller run does not exercise.

Run by scripts/test; by hand:
  cargo build -p sluice -p publikes && SLUICE_BIN=target/debug/sluice \
    .venv/bin/python -m unittest discover -s tests/clients -p test_publikes.py
"""

import http.client
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import boto3
from botocore.config import Config

from test_s3 import Moto

SLUICE = os.environ["SLUICE_BIN"]
PUBLIKES = os.environ.get("PUBLIKES_BIN") or os.path.join(os.path.dirname(SLUICE), "publikes")
SECRET = "e2e-secret"
CLIENTS = 8
# Generous: CI's machine is small and slow; every wait below polls and ends as soon as it can.
DEADLINE_SECONDS = 900


class Process:
    """A child process whose first stdout or stderr line matching `pattern` says it is ready."""

    def __init__(self, command, folder, name, pattern, env=None):
        self.log_path = os.path.join(folder, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        deadline = time.time() + 60
        while True:
            with open(self.log_path) as log:
                match = re.search(pattern, log.read())
            if match:
                self.match = match.group(1)
                return
            if self.process.poll() is not None or time.time() > deadline:
                self.stop()
                with open(self.log_path) as log:
                    raise RuntimeError(f"{command[0]} did not start:\n{log.read()}")
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class EndToEnd:
    """The test, for a server started with `server_args()`."""

    statuses_per_client = 250

    def server_args(self):
        return []

    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="publikes-e2e-")
        self.fake = Process([PUBLIKES, "fake-fxtwitter", "--port", "0", "--max-seconds", str(DEADLINE_SECONDS * 2)],
                            self.folder, "fxtwitter", r"(http://127\.0\.0\.1:\d+)")
        command = [PUBLIKES, "serve", "--data", os.path.join(self.folder, "data"), "--listen", "127.0.0.1:0",
                   "--secret", SECRET, "--fxtwitter-url", self.fake.match, "--merge-delay", "1", *self.server_args()]
        try:
            self.server = Process(command, self.folder, "server", r"address=(127\.0\.0\.1:\d+)", env={"SLUICE_LOG": "info"})
        except Exception:
            self.fake.stop()
            raise
        self.host = self.server.match
        self.endpoint = "http://" + self.host
        keys = dict(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test", endpoint_url=self.endpoint)
        self.sfn = boto3.client("stepfunctions", **keys)
        self.s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **keys)

    def tearDown(self):
        self.server.stop()
        self.fake.stop()

    # -- clients ---------------------------------------------------------------------------------

    def like_all(self):
        """8 clients like `statuses_per_client` statuses each, one after another; every 10th is liked again at once,
        and every 25th by the next client too, once that client's like of it was accepted. Answers
        each client's statuses in the order they were accepted."""
        accepted = [[] for _ in range(CLIENTS)]
        lock = threading.Lock()
        failures = []

        def like(connection, status):
            body = json.dumps({"id": status})
            connection.request("POST", "/publikes/likes", body=body,
                               headers={"content-type": "application/json", "x-publikes-secret": SECRET})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 202:
                raise AssertionError(f"liking {status} answered {response.status}: {answer!r}")

        def client(number):
            connection = http.client.HTTPConnection(self.host, timeout=120)
            try:
                for sequence in range(self.statuses_per_client):
                    status = str(1_000_000_000 * (number + 1) + sequence)
                    like(connection, status)
                    with lock:
                        accepted[number].append(status)
                    if sequence % 10 == 0:
                        like(connection, status)
                    if sequence % 25 == 0:
                        with lock:
                            theirs = list(accepted[(number + 1) % CLIENTS])
                        if theirs:
                            like(connection, theirs[-1])
            except Exception as error:  # noqa: BLE001 - reported by the main thread
                failures.append(f"client {number}: {error!r}")
            finally:
                connection.close()

        threads = [threading.Thread(target=client, args=(number,)) for number in range(CLIENTS)]
        for thread in threads:
            thread.start()
        return threads, accepted, failures

    def rotate(self, name):
        arn = "arn:aws:states:us-east-1:123456789012:stateMachine:rotate-batch"
        return self.sfn.start_execution(stateMachineArn=arn, name=name, input="{}")["executionArn"]

    def read(self):
        """The list as `publikes read` walks it (signed GETs)."""
        answer = subprocess.run([PUBLIKES, "read", "--endpoint", self.endpoint], capture_output=True, text=True, timeout=300)
        self.assertEqual(answer.returncode, 0, answer.stderr)
        return answer.stdout.split()

    def unsigned(self, key):
        with urllib.request.urlopen(f"{self.endpoint}/publikes/{key}", timeout=60) as response:
            return response.status, response.headers.get("content-type"), response.read()

    def read_unsigned(self):
        """The list as the page's script walks it: plain GETs, no signature."""
        statuses = []
        _, _, body = self.unsigned("data/public/current.json")
        current = json.loads(body)
        batch_id = current["head"] or current["last"]
        while batch_id:
            _, _, body = self.unsigned(f"data/public/batches/{batch_id}.json")
            batch = json.loads(body)
            for page in batch["pages"]:
                if page.startswith("head/"):
                    statuses.append(page.rsplit("/", 1)[1])
                else:
                    _, _, body = self.unsigned(f"data/public/pages/{page}.json")
                    statuses.extend(entry["id"] for entry in json.loads(body)["statuses"])
            batch_id = batch["next"]
        return statuses

    def signed_json(self, key):
        return json.loads(self.s3.get_object(Bucket="publikes", Key=key)["Body"].read())

    # -- the test --------------------------------------------------------------------------------

    def test_likes_from_eight_clients_while_rotating(self):
        threads, accepted, failures = self.like_all()
        rotations = []
        # Rotations every few seconds while the likes arrive and are inserted.
        deadline = time.time() + DEADLINE_SECONDS
        while any(thread.is_alive() for thread in threads):
            rotations.append(self.rotate(f"rotate-{len(rotations)}"))
            time.sleep(3)
            self.assertLess(time.time(), deadline, "the clients did not finish")
        self.assertEqual(failures, [])
        expected = {status for statuses in accepted for status in statuses}
        self.assertEqual(len(expected), CLIENTS * self.statuses_per_client)
        # Keep rotating until insert-status has taken every like off the queue.
        while True:
            listed = self.read()
            if set(listed) >= expected:
                break
            self.assertLess(time.time(), deadline, f"{len(expected - set(listed))} statuses never appeared")
            rotations.append(self.rotate(f"rotate-{len(rotations)}"))
            time.sleep(3)
        # A last rotation merges the rest; then every rotation ends.
        rotations.append(self.rotate("rotate-last"))
        for arn in rotations:
            while True:
                described = self.sfn.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING":
                    break
                self.assertLess(time.time(), deadline, f"{arn} did not end")
                time.sleep(0.5)
            self.assertEqual(described["status"], "SUCCEEDED", described)
        closed = [json.loads(self.sfn.describe_execution(executionArn=arn)["output"]) for arn in rotations]
        merged = [output["merge"]["batch_id"] for output in closed if output.get("close", {}).get("closed")]
        self.assertGreaterEqual(len(merged), 3, "rotations closed and merged batches while likes arrived")

        # Every accepted status exactly once; duplicates stored once.
        listed = self.read()
        self.assertEqual(len(listed), len(set(listed)), "no status twice")
        self.assertEqual(set(listed), expected)
        # Each client's statuses newest first, in the order they arrived (one FIFO group).
        for number, statuses in enumerate(accepted):
            mine = [status for status in listed if status.startswith(str(number + 1)) and len(status) == 10]
            self.assertEqual(mine, list(reversed(statuses)), f"client {number}'s statuses")
        # No page lost: every batch but the head is merged and no head page is left behind.
        current = self.signed_json("data/public/current.json")
        head_pages = self.s3.list_objects_v2(Bucket="publikes", Prefix="data/public/pages/head/")
        leftover = [item["Key"] for item in head_pages.get("Contents", [])]
        self.assertEqual([key for key in leftover if f"/head/{current['head']}/" not in key], [])
        for batch_id in merged:
            batch = self.signed_json(f"data/public/batches/{batch_id}.json")
            self.assertFalse(batch["head"], batch)
            self.assertTrue(all(page.startswith(f"merged/{batch_id}/") for page in batch["pages"]), batch)

        # The static page and the list's JSON read without a signature; nothing private does.
        status, content_type, page = self.unsigned("index.html")
        self.assertEqual((status, content_type.split(";")[0]), (200, "text/html"))
        self.assertIn(b"data/public/current.json", page)
        self.assertEqual(self.read_unsigned(), listed)
        private = urllib.request.Request(f"{self.endpoint}/publikes/data/private/inserted/{listed[0]}.json")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(private, timeout=60)
        self.assertEqual(refused.exception.code, 403)
        # store-status fetched the statuses (a sample).
        for status in listed[:: len(listed) // 20]:
            deadline_status = time.time() + 120
            while True:
                try:
                    stored = self.signed_json(f"data/private/statuses/{status}.json")
                    if stored["complete"]:
                        break
                except self.s3.exceptions.NoSuchKey:
                    pass
                self.assertLess(time.time(), deadline_status, f"status {status} was never stored")
                time.sleep(0.5)


class PublikesOnTheLocalFolder(EndToEnd, unittest.TestCase):
    pass


class PublikesOnS3CompatibleStorage(EndToEnd, unittest.TestCase):
    statuses_per_client = 50

    def setUp(self):
        self.moto = Moto()
        try:
            super().setUp()
        except Exception:
            self.moto.stop()
            raise

    def tearDown(self):
        super().tearDown()
        self.moto.stop()

    def server_args(self):
        return self.moto.server_args()


if __name__ == "__main__":
    unittest.main()
