"""Sluice's buckets driven by the real AWS clients: boto3 (with its default checksums and
streaming bodies) and the AWS CLI, path-style on the server's one port.

scripts/test runs this with SLUICE_BIN naming the built `sluice` binary. Each test class starts its
own server on a free loopback port, in a temporary data directory.
"""

import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

SLUICE = os.environ["SLUICE_BIN"]
AWS = os.path.join(os.path.dirname(sys.executable), "aws")
KEYS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


class Server:
    """`sluice serve` on 127.0.0.1:0, until stopped."""

    def __init__(self, apps=()):
        self.folder = tempfile.mkdtemp(prefix="sluice-s3-")
        self.log_path = os.path.join(self.folder, "server.log")
        command = [SLUICE, "serve", "--data", os.path.join(self.folder, "data"), "--listen", "127.0.0.1:0"]
        for app in apps:
            command += ["--app", app]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log, env={**os.environ, "SLUICE_LOG": "info"})
        deadline = time.time() + 30
        while True:
            with open(self.log_path) as log:
                match = re.search(r"address=(127\.0\.0\.1:\d+)", log.read())
            if match:
                self.endpoint = "http://" + match.group(1)
                return
            if self.process.poll() is not None or time.time() > deadline:
                self.process.kill()
                self.process.wait()
                raise RuntimeError("the server did not start:\n" + open(self.log_path).read())
            time.sleep(0.02)

    def client(self, **config):
        config.setdefault("s3", {"addressing_style": "path"})
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def code(error):
    return error.exception.response["Error"]["Code"]


class S3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.s3 = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def bucket(self, name):
        self.s3.create_bucket(Bucket=name)
        return name

    def test_buckets_are_created_listed_headed_and_deleted(self):
        self.bucket("lifecycle")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.create_bucket(Bucket="lifecycle")
        self.assertEqual(code(error), "BucketAlreadyOwnedByYou")
        self.assertIn("lifecycle", [bucket["Name"] for bucket in self.s3.list_buckets()["Buckets"]])
        self.s3.head_bucket(Bucket="lifecycle")
        self.s3.put_object(Bucket="lifecycle", Key="k", Body=b"x")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.delete_bucket(Bucket="lifecycle")
        self.assertEqual(code(error), "BucketNotEmpty")
        self.s3.delete_object(Bucket="lifecycle", Key="k")
        self.s3.delete_bucket(Bucket="lifecycle")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.head_bucket(Bucket="lifecycle")
        self.assertEqual(error.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.create_bucket(Bucket="Not_Valid")
        self.assertEqual(code(error), "InvalidBucketName")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.list_objects_v2(Bucket="no-such-bucket")
        self.assertEqual(code(error), "NoSuchBucket")

    def test_objects_round_trip_with_metadata_etags_and_ranges(self):
        bucket = self.bucket("objects")
        put = self.s3.put_object(
            Bucket=bucket, Key="dir/hello world.txt", Body=b"hello world", ContentType="text/plain",
            Metadata={"colour": "blue"}, CacheControl="max-age=60",
        )
        self.assertEqual(put["ETag"], '"5eb63bbbe01eeed093cb22bb8f5acdc3"')
        got = self.s3.get_object(Bucket=bucket, Key="dir/hello world.txt")
        self.assertEqual(got["Body"].read(), b"hello world")
        self.assertEqual((got["ContentType"], got["Metadata"], got["CacheControl"]), ("text/plain", {"colour": "blue"}, "max-age=60"))
        head = self.s3.head_object(Bucket=bucket, Key="dir/hello world.txt")
        self.assertEqual((head["ContentLength"], head["ETag"]), (11, put["ETag"]))
        ranged = self.s3.get_object(Bucket=bucket, Key="dir/hello world.txt", Range="bytes=6-")
        self.assertEqual((ranged["Body"].read(), ranged["ContentRange"]), (b"world", "bytes 6-10/11"))
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="dir/hello world.txt", Range="bytes=-5")["Body"].read(), b"world")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.get_object(Bucket=bucket, Key="dir/hello world.txt", Range="bytes=50-")
        self.assertEqual(code(error), "InvalidRange")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.get_object(Bucket=bucket, Key="missing")
        self.assertEqual(code(error), "NoSuchKey")
        empty = self.s3.put_object(Bucket=bucket, Key="empty", Body=b"")
        self.assertEqual(empty["ETag"], '"d41d8cd98f00b204e9800998ecf8427e"')
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="empty")["Body"].read(), b"")
        hostile = "../../etc/passwd"
        self.s3.put_object(Bucket=bucket, Key=hostile, Body=b"just a key")
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key=hostile)["Body"].read(), b"just a key")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
        self.assertEqual(code(error), "KeyTooLongError")

    def test_conditional_writes_and_reads(self):
        bucket = self.bucket("conditions")
        first = self.s3.put_object(Bucket=bucket, Key="lock", Body=b"one", IfNoneMatch="*")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.put_object(Bucket=bucket, Key="lock", Body=b"two", IfNoneMatch="*")
        self.assertEqual(code(error), "PreconditionFailed")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.put_object(Bucket=bucket, Key="lock", Body=b"two", IfMatch='"0123"')
        self.assertEqual(code(error), "PreconditionFailed")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.put_object(Bucket=bucket, Key="absent", Body=b"two", IfMatch=first["ETag"])
        self.assertEqual(code(error), "NoSuchKey")
        second = self.s3.put_object(Bucket=bucket, Key="lock", Body=b"two", IfMatch=first["ETag"])
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="lock")["Body"].read(), b"two")
        # Conditional reads.
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.get_object(Bucket=bucket, Key="lock", IfMatch=first["ETag"])
        self.assertEqual(code(error), "PreconditionFailed")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.get_object(Bucket=bucket, Key="lock", IfNoneMatch=second["ETag"])
        self.assertEqual(error.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)
        future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.get_object(Bucket=bucket, Key="lock", IfModifiedSince=future)
        self.assertEqual(error.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)
        past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.get_object(Bucket=bucket, Key="lock", IfUnmodifiedSince=past)
        self.assertEqual(code(error), "PreconditionFailed")
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="lock", IfModifiedSince=past)["Body"].read(), b"two")

    def test_racing_creates_have_one_winner(self):
        bucket = self.bucket("races")
        clients = [self.server.client(max_pool_connections=32) for _ in range(4)]

        def create(writer, key):
            try:
                clients[writer % 4].put_object(Bucket=bucket, Key=key, Body=str(writer).encode(), IfNoneMatch="*")
                return writer
            except botocore.exceptions.ClientError as error:
                self.assertEqual(error.response["Error"]["Code"], "PreconditionFailed")
                return None

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            for round in range(10):
                key = f"lock-{round}"
                winners = [w for w in pool.map(lambda writer: create(writer, key), range(32)) if w is not None]
                self.assertEqual(len(winners), 1, winners)
                self.assertEqual(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read(), str(winners[0]).encode())

    def test_copies_keep_or_replace_metadata(self):
        bucket = self.bucket("copies")
        self.s3.put_object(Bucket=bucket, Key="source", Body=b"data", ContentType="text/csv", Metadata={"a": "1"})
        copied = self.s3.copy_object(Bucket=bucket, Key="kept", CopySource={"Bucket": bucket, "Key": "source"})
        self.assertEqual(copied["CopyObjectResult"]["ETag"], '"8d777f385d3dfec8815d20f7496026dc"')
        kept = self.s3.head_object(Bucket=bucket, Key="kept")
        self.assertEqual((kept["ContentType"], kept["Metadata"]), ("text/csv", {"a": "1"}))
        self.s3.copy_object(
            Bucket=bucket, Key="replaced", CopySource=f"{bucket}/source", MetadataDirective="REPLACE",
            ContentType="application/json", Metadata={"b": "2"},
        )
        replaced = self.s3.get_object(Bucket=bucket, Key="replaced")
        self.assertEqual((replaced["ContentType"], replaced["Metadata"], replaced["Body"].read()), ("application/json", {"b": "2"}, b"data"))
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})
        self.assertEqual(code(error), "NoSuchKey")

    def test_listing_with_prefix_delimiter_and_pages(self):
        bucket = self.bucket("listing")
        keys = ["a/1", "a/2", "b/1", "c", "d/x/1", "d/y", "e"]
        for key in keys:
            self.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        flat = self.s3.list_objects_v2(Bucket=bucket)
        self.assertEqual([item["Key"] for item in flat["Contents"]], keys)
        self.assertEqual(flat["KeyCount"], 7)
        rolled = self.s3.list_objects_v2(Bucket=bucket, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in rolled["CommonPrefixes"]], ["a/", "b/", "d/"])
        self.assertEqual([item["Key"] for item in rolled["Contents"]], ["c", "e"])
        nested = self.s3.list_objects_v2(Bucket=bucket, Prefix="d/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in nested["CommonPrefixes"]], ["d/x/"])
        paged, token = [], None
        while True:
            page = self.s3.list_objects_v2(Bucket=bucket, MaxKeys=2, **({"ContinuationToken": token} if token else {}))
            paged += [item["Key"] for item in page.get("Contents", [])]
            if not page["IsTruncated"]:
                break
            token = page["NextContinuationToken"]
        self.assertEqual(paged, keys)
        after = self.s3.list_objects_v2(Bucket=bucket, StartAfter="c")
        self.assertEqual([item["Key"] for item in after["Contents"]], ["d/x/1", "d/y", "e"])
        all_keys = [item["Key"] for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}) for item in page["Contents"]]
        self.assertEqual(all_keys, keys)
        deleted = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys]})
        self.assertEqual(sorted(item["Key"] for item in deleted["Deleted"]), sorted(keys))
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket)["KeyCount"], 0)

    def test_presigned_urls_work_with_plain_http(self):
        bucket = self.bucket("presigned")
        self.s3.put_object(Bucket=bucket, Key="page.html", Body=b"<p>hi</p>", ContentType="text/html")
        # botocore presigns with SigV2 unless asked for SigV4; Sluice verifies SigV4 only.
        presigner = self.server.client(signature_version="s3v4")
        url = presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "page.html"}, ExpiresIn=60)
        with urllib.request.urlopen(url) as response:
            self.assertEqual((response.read(), response.headers["Content-Type"]), (b"<p>hi</p>", "text/html"))
        upload = presigner.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=60)
        request = urllib.request.Request(upload, data=b"uploaded", method="PUT")
        with urllib.request.urlopen(request) as response:
            self.assertEqual(response.status, 200)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="up.txt")["Body"].read(), b"uploaded")
        tampered = url.replace("page.html", "other.html")
        with self.assertRaises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(tampered)
        self.assertEqual(error.exception.code, 403)
        with self.assertRaises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"{self.server.endpoint}/{bucket}/page.html")
        self.assertEqual(error.exception.code, 403)

    def test_upload_and_download_files(self):
        bucket = self.bucket("files")
        folder = tempfile.mkdtemp()
        try:
            source = os.path.join(folder, "source.bin")
            with open(source, "wb") as file:
                file.write(os.urandom(3 * 1024 * 1024 + 7))
            self.s3.upload_file(source, bucket, "big.bin")
            target = os.path.join(folder, "target.bin")
            self.s3.download_file(bucket, "big.bin", target)
            with open(source, "rb") as a, open(target, "rb") as b:
                self.assertEqual(a.read(), b.read())
        finally:
            shutil.rmtree(folder)

    def test_signed_chunks_are_verified(self):
        # Over HTTPS-less endpoints botocore streams unsigned chunks by default; ask for signed ones.
        signed = self.server.client(request_checksum_calculation="when_required", s3={"addressing_style": "path", "payload_signing_enabled": True})
        bucket = self.bucket("chunks")
        signed.put_object(Bucket=bucket, Key="k", Body=b"signed body")
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k")["Body"].read(), b"signed body")

    def test_the_aws_cli(self):
        env = {**os.environ, **KEYS}
        folder = tempfile.mkdtemp()
        try:
            path = os.path.join(folder, "note.txt")
            with open(path, "w") as file:
                file.write("from the cli")

            def aws(*args):
                return subprocess.run([AWS, "--endpoint-url", self.server.endpoint, *args], env=env, check=True, capture_output=True, text=True).stdout

            aws("s3", "mb", "s3://cli-bucket")
            aws("s3", "cp", path, "s3://cli-bucket/notes/note.txt")
            self.assertIn("notes/", aws("s3", "ls", "s3://cli-bucket/"))
            self.assertIn("note.txt", aws("s3", "ls", "s3://cli-bucket/notes/"))
            self.assertIn('"ContentLength": 12', aws("s3api", "head-object", "--bucket", "cli-bucket", "--key", "notes/note.txt"))
            aws("s3", "cp", "s3://cli-bucket/notes/note.txt", os.path.join(folder, "back.txt"))
            with open(os.path.join(folder, "back.txt")) as file:
                self.assertEqual(file.read(), "from the cli")
            aws("s3", "rm", "--recursive", "s3://cli-bucket/")
            aws("s3", "rb", "s3://cli-bucket")
        finally:
            shutil.rmtree(folder)


class NotificationTest(unittest.TestCase):
    """Object events, configured with PutBucketNotificationConfiguration, start a state machine
    with S3's event shape (a state machine ARN is accepted where S3 takes a function's)."""

    @classmethod
    def setUpClass(cls):
        cls.app = tempfile.mkdtemp(prefix="sluice-s3-app-")
        with open(os.path.join(cls.app, "sluice.toml"), "w") as manifest:
            manifest.write('[app]\nname = "promoter"\n\n[state_machines.promote]\ndefinition = "promote.asl.json"\n')
        with open(os.path.join(cls.app, "promote.asl.json"), "w") as definition:
            json.dump({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}, definition)
        cls.server = Server(apps=[cls.app])
        cls.s3 = cls.server.client()
        cls.sfn = boto3.client("stepfunctions", endpoint_url=cls.server.endpoint, region_name="us-east-1",
                               aws_access_key_id="test", aws_secret_access_key="test")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.app, ignore_errors=True)

    def test_created_objects_start_the_state_machine_with_s3_records(self):
        machine = "arn:aws:states:us-east-1:123456789012:stateMachine:promote"
        self.s3.create_bucket(Bucket="updates")
        configuration = {"LambdaFunctionConfigurations": [{
            "Id": "promote-json", "LambdaFunctionArn": machine, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".json"}]}},
        }]}
        self.s3.put_bucket_notification_configuration(Bucket="updates", NotificationConfiguration=configuration)
        read = self.s3.get_bucket_notification_configuration(Bucket="updates")["LambdaFunctionConfigurations"]
        self.assertEqual((read[0]["Id"], read[0]["LambdaFunctionArn"], read[0]["Events"]), ("promote-json", machine, ["s3:ObjectCreated:*"]))
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.put_bucket_notification_configuration(Bucket="updates", NotificationConfiguration={"LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:nobody", "Events": ["s3:ObjectCreated:*"]}]})
        self.assertEqual(code(error), "InvalidArgument")
        self.s3.put_object(Bucket="updates", Key="in/update 1.json", Body=b"{}")
        self.s3.put_object(Bucket="updates", Key="in/ignored.txt", Body=b"x")
        self.s3.put_object(Bucket="updates", Key="other/ignored.json", Body=b"x")
        deadline = time.time() + 20
        while True:
            executions = self.sfn.list_executions(stateMachineArn=machine)["executions"]
            if executions or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(executions), 1, executions)
        event = json.loads(self.sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"])
        record = event["Records"][0]
        self.assertEqual(record["eventName"], "ObjectCreated:Put")
        self.assertEqual(record["s3"]["configurationId"], "promote-json")
        self.assertEqual(record["s3"]["bucket"]["name"], "updates")
        self.assertEqual(record["s3"]["object"]["key"], "in/update+1.json")
        self.assertEqual((record["s3"]["object"]["size"], record["s3"]["object"]["eTag"]), (2, "99914b932bd37a50b983c5e7c90ae93b"))


class ManifestTest(unittest.TestCase):
    """`[buckets.NAME]` in an app's sluice.toml: created on deploy with its notification rules,
    whose destinations may be declared by the same app; a bad section deploys nothing."""

    MANIFEST = """[app]
name = "inbox"

[state_machines.sort-mail]
definition = "sort.asl.json"

[buckets.inbox]
[[buckets.inbox.notifications]]
id = "new-mail"
events = ["s3:ObjectCreated:*"]
prefix = "mail/"
state_machine = "sort-mail"

[buckets.archive]
"""

    @classmethod
    def setUpClass(cls):
        cls.app = tempfile.mkdtemp(prefix="sluice-s3-manifest-")
        with open(os.path.join(cls.app, "sluice.toml"), "w") as manifest:
            manifest.write(cls.MANIFEST)
        with open(os.path.join(cls.app, "sort.asl.json"), "w") as definition:
            json.dump({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}, definition)
        cls.server = Server(apps=[cls.app])
        cls.s3 = cls.server.client()
        cls.sfn = boto3.client("stepfunctions", endpoint_url=cls.server.endpoint, region_name="us-east-1",
                               aws_access_key_id="test", aws_secret_access_key="test")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.app, ignore_errors=True)

    def deploy(self, folder):
        env = {**os.environ, **KEYS, "SLUICE_ENDPOINT": self.server.endpoint}
        return subprocess.run([SLUICE, "deploy", folder], env=env, capture_output=True, text=True)

    def test_declared_buckets_exist_and_notify(self):
        names = [bucket["Name"] for bucket in self.s3.list_buckets()["Buckets"]]
        self.assertIn("inbox", names)
        self.assertIn("archive", names)
        machine = "arn:aws:states:us-east-1:123456789012:stateMachine:sort-mail"
        rules = self.s3.get_bucket_notification_configuration(Bucket="inbox")["LambdaFunctionConfigurations"]
        self.assertEqual([(rule["Id"], rule["LambdaFunctionArn"], rule["Events"]) for rule in rules],
                         [("new-mail", machine, ["s3:ObjectCreated:*"])])
        self.s3.put_object(Bucket="inbox", Key="mail/1.eml", Body=b"hello")
        self.s3.put_object(Bucket="inbox", Key="drafts/2.eml", Body=b"not yet")
        deadline = time.time() + 20
        while not self.sfn.list_executions(stateMachineArn=machine)["executions"] and time.time() < deadline:
            time.sleep(0.1)
        executions = self.sfn.list_executions(stateMachineArn=machine)["executions"]
        self.assertEqual(len(executions), 1, executions)
        event = json.loads(self.sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"])
        self.assertEqual(event["Records"][0]["s3"]["object"]["key"], "mail/1.eml")
        # Deploying again keeps the objects and the rules.
        deployed = self.deploy(self.app)
        self.assertEqual(deployed.returncode, 0, deployed.stderr)
        self.assertEqual(self.s3.get_object(Bucket="inbox", Key="mail/1.eml")["Body"].read(), b"hello")

    def test_a_bad_bucket_section_deploys_nothing_and_names_every_problem(self):
        folder = tempfile.mkdtemp(prefix="sluice-s3-bad-")
        try:
            with open(os.path.join(folder, "sluice.toml"), "w") as manifest:
                manifest.write("""[app]
name = "broken"

[state_machines.never]
definition = "never.asl.json"

[buckets.Bad_Name]

[buckets.fine-bucket]
[[buckets.fine-bucket.notifications]]
events = ["s3:ObjectCreated:Put", "s3:ObjectExploded"]
state_machine = "never"
[[buckets.fine-bucket.notifications]]
events = ["s3:ObjectRemoved:*"]
function = "nobody"
[[buckets.fine-bucket.notifications]]
events = ["s3:ObjectRemoved:*"]
""")
            with open(os.path.join(folder, "never.asl.json"), "w") as definition:
                json.dump({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}, definition)
            refused = self.deploy(folder)
            self.assertNotEqual(refused.returncode, 0)
            for problem in ["buckets.Bad_Name", "buckets.fine-bucket.notifications[0].events", "s3:ObjectExploded",
                            "buckets.fine-bucket.notifications[1].target", "nobody",
                            "buckets.fine-bucket.notifications[2] names no destination"]:
                self.assertIn(problem, refused.stderr)
            names = [bucket["Name"] for bucket in self.s3.list_buckets()["Buckets"]]
            self.assertNotIn("fine-bucket", names)
            machines = [machine["name"] for machine in self.sfn.list_state_machines()["stateMachines"]]
            self.assertNotIn("never", machines)
        finally:
            shutil.rmtree(folder)


if __name__ == "__main__":
    unittest.main()
