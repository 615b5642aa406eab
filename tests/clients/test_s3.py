"""Sluice's buckets driven by the real AWS clients: boto3 (with its default checksums and
streaming bodies) and the AWS CLI, path-style on the server's one port.

scripts/test runs this with SLUICE_BIN naming the built `sluice` binary. Each test class starts its
own server on a free loopback port, in a temporary data directory. The bucket tests run twice:
with object bytes in the data directory's blob folder, and in a bucket of a real S3-compatible
server (moto, pinned in requirements.txt, which decides conditional writes atomically) that the
test starts on 127.0.0.1 and stops after.
"""

import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
import boto3.s3.transfer
import botocore.exceptions
from botocore.config import Config

SLUICE = os.environ["SLUICE_BIN"]
AWS = os.path.join(os.path.dirname(sys.executable), "aws")
KEYS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


MOTO = os.path.join(os.path.dirname(sys.executable), "moto_server")
BACKING = "sluice-blobs"


class Moto:
    """moto_server on a free loopback port, with the backing bucket Sluice keeps its blobs in."""

    def __init__(self):
        if not os.path.exists(MOTO):
            raise RuntimeError(f"{MOTO} is missing: install tests/clients/requirements.txt (scripts/test does)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(port)], stdout=self.log, stderr=subprocess.STDOUT)
        self.endpoint = f"http://127.0.0.1:{port}"
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="test",
                               aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}))
        deadline = time.time() + 30
        while True:
            try:
                self.s3.create_bucket(Bucket=BACKING)
                return
            except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError):
                if self.process.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.1)

    def blobs(self, prefix):
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=BACKING, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def server_args(self):
        return ["--s3-bucket", BACKING, "--s3-endpoint", self.endpoint, "--s3-access-key", "test", "--s3-secret-key", "test"]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class Server:
    """`sluice serve` on 127.0.0.1:0, until stopped."""

    def __init__(self, apps=(), args=()):
        self.folder = tempfile.mkdtemp(prefix="sluice-s3-")
        self.log_path = os.path.join(self.folder, "server.log")
        command = [SLUICE, "serve", "--data", os.path.join(self.folder, "data"), "--listen", "127.0.0.1:0", *args]
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
    """The bucket tests, with object bytes in the data directory's blob folder."""

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

    def stored_blobs(self, bucket):
        """The blobs holding the bucket's bytes in the storage under Sluice."""
        folder = os.path.join(self.server.folder, "data", "blobs", bucket)
        return os.listdir(folder) if os.path.isdir(folder) else []

    def test_bad_input_gets_s3_errors_and_writes_nothing(self):
        bucket = self.bucket("bad-input")
        self.s3.put_object(Bucket=bucket, Key="kept", Body=b"kept")
        long_key = "k" * 1025

        def refused(call, expected_code, status=None, mentions=None):
            with self.assertRaises(botocore.exceptions.ClientError) as error:
                call()
            self.assertEqual(code(error), expected_code)
            if status:
                self.assertEqual(error.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
            if mentions:
                self.assertIn(mentions, error.exception.response["Error"]["Message"])
            return error.exception.response

        # Keys over 1,024 bytes, whichever way they come in.
        refused(lambda: self.s3.put_object(Bucket=bucket, Key=long_key, Body=b"x"), "KeyTooLongError", 400, "1025 bytes")
        refused(lambda: self.s3.copy_object(Bucket=bucket, Key=long_key, CopySource={"Bucket": bucket, "Key": "kept"}), "KeyTooLongError")
        refused(lambda: self.s3.create_multipart_upload(Bucket=bucket, Key=long_key), "KeyTooLongError")
        # Missing buckets.
        for call in [
            lambda: self.s3.put_object(Bucket="no-such-bucket", Key="k", Body=b"x"),
            lambda: self.s3.get_object(Bucket="no-such-bucket", Key="k"),
            lambda: self.s3.delete_object(Bucket="no-such-bucket", Key="k"),
            lambda: self.s3.copy_object(Bucket="no-such-bucket", Key="k", CopySource={"Bucket": bucket, "Key": "kept"}),
            lambda: self.s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": "no-such-bucket", "Key": "kept"}),
            lambda: self.s3.list_multipart_uploads(Bucket="no-such-bucket"),
        ]:
            answer = refused(call, "NoSuchBucket", 404)
            self.assertEqual(answer["Error"]["BucketName"], "no-such-bucket")
        # Bad ranges: past the end is refused; a range S3 cannot parse is ignored.
        refused(lambda: self.s3.get_object(Bucket=bucket, Key="kept", Range="bytes=4-"), "InvalidRange", 416)
        refused(lambda: self.s3.get_object(Bucket=bucket, Key="kept", Range="bytes=-0"), "InvalidRange", 416)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="kept", Range="bytes=x-y")["Body"].read(), b"kept")
        # Wrong conditional headers.
        refused(lambda: self.s3.put_object(Bucket=bucket, Key="new", Body=b"x", IfNoneMatch='"abc"'), "NotImplemented", 501, "If-None-Match")
        refused(lambda: self.s3.put_object(Bucket=bucket, Key="kept", Body=b"x", IfMatch='"0123"'), "PreconditionFailed", 412)
        refused(lambda: self.s3.put_object(Bucket=bucket, Key="new", Body=b"x", IfMatch='"0123"'), "NoSuchKey", 404)
        refused(lambda: self.s3.delete_object(Bucket=bucket, Key="kept", IfMatch='"0123"'), "PreconditionFailed", 412)
        refused(lambda: self.s3.put_object(Bucket=bucket, Key="new", Body=b"x", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA=="), "BadDigest")
        # Nothing was written: the one object, and the one blob under it.
        self.assertEqual([item["Key"] for item in self.s3.list_objects_v2(Bucket=bucket)["Contents"]], ["kept"])
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="kept")["Body"].read(), b"kept")
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []), [])
        self.assertEqual(len(self.stored_blobs(bucket)), 1, self.stored_blobs(bucket))

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

    def test_multipart_uploads(self):
        bucket = self.bucket("multipart")
        big, small = os.urandom(5 * 1024 * 1024), b"tail bytes"
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="joined.bin", ContentType="application/x-test", Metadata={"kind": "joined"})
        upload_id = upload["UploadId"]
        first = self.s3.upload_part(Bucket=bucket, Key="joined.bin", UploadId=upload_id, PartNumber=1, Body=big)
        second = self.s3.upload_part(Bucket=bucket, Key="joined.bin", UploadId=upload_id, PartNumber=2, Body=small)
        self.assertEqual(first["ETag"], '"%s"' % hashlib.md5(big).hexdigest())
        listed = self.s3.list_parts(Bucket=bucket, Key="joined.bin", UploadId=upload_id)
        self.assertEqual([(part["PartNumber"], part["Size"], part["ETag"]) for part in listed["Parts"]],
                         [(1, len(big), first["ETag"]), (2, len(small), second["ETag"])])
        uploads = self.s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        self.assertEqual([(item["Key"], item["UploadId"]) for item in uploads], [("joined.bin", upload_id)])
        parts = [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]

        def complete(key="joined.bin", upload=upload_id, parts=parts, **extra):
            return self.s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}, **extra)

        for wrong, expected in [
            (list(reversed(parts)), "InvalidPartOrder"),
            ([parts[0], {"PartNumber": 2, "ETag": first["ETag"]}], "InvalidPart"),
            ([parts[0], {"PartNumber": 3, "ETag": second["ETag"]}], "InvalidPart"),
        ]:
            with self.assertRaises(botocore.exceptions.ClientError) as error:
                complete(parts=wrong)
            self.assertEqual(code(error), expected)
        self.s3.put_object(Bucket=bucket, Key="joined.bin", Body=b"already here")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            complete(IfNoneMatch="*")
        self.assertEqual(code(error), "PreconditionFailed")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            complete(IfMatch='"0123"')
        self.assertEqual(code(error), "PreconditionFailed")
        current = self.s3.head_object(Bucket=bucket, Key="joined.bin")["ETag"]
        done = complete(IfMatch=current)
        md5s = hashlib.md5(hashlib.md5(big).digest() + hashlib.md5(small).digest()).hexdigest()
        self.assertEqual(done["ETag"], '"%s-2"' % md5s)
        got = self.s3.get_object(Bucket=bucket, Key="joined.bin")
        self.assertEqual(got["Body"].read(), big + small)
        self.assertEqual((got["ETag"], got["ContentType"], got["Metadata"]), (done["ETag"], "application/x-test", {"kind": "joined"}))
        ranged = self.s3.get_object(Bucket=bucket, Key="joined.bin", Range="bytes=%d-" % (len(big) - 3))["Body"].read()
        self.assertEqual(ranged, big[-3:] + small)
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            complete()
        self.assertEqual(code(error), "NoSuchUpload")
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []), [])
        # Every part but the last must be 5 MiB.
        tiny = self.s3.create_multipart_upload(Bucket=bucket, Key="tiny")["UploadId"]
        etags = [self.s3.upload_part(Bucket=bucket, Key="tiny", UploadId=tiny, PartNumber=n, Body=b"x")["ETag"] for n in (1, 2)]
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            complete(key="tiny", upload=tiny, parts=[{"PartNumber": n, "ETag": etag} for n, etag in zip((1, 2), etags)])
        self.assertEqual(code(error), "EntityTooSmall")
        single = complete(key="tiny", upload=tiny, parts=[{"PartNumber": 2, "ETag": etags[1]}])
        self.assertEqual(single["ETag"], '"%s-1"' % hashlib.md5(hashlib.md5(b"x").digest()).hexdigest())
        # UploadPartCopy takes a range of an existing object.
        copy = self.s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
        copied = self.s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=copy, PartNumber=1,
                                          CopySource={"Bucket": bucket, "Key": "joined.bin"}, CopySourceRange="bytes=0-9")
        self.assertEqual(copied["CopyPartResult"]["ETag"], '"%s"' % hashlib.md5(big[:10]).hexdigest())
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=copy, PartNumber=2,
                                     CopySource={"Bucket": bucket, "Key": "joined.bin"}, CopySourceRange="bytes=0-%d" % (len(big) + len(small)))
        self.assertEqual(code(error), "InvalidRange")
        complete(key="copied", upload=copy, parts=[{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}])
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="copied")["Body"].read(), big[:10])
        # Aborted uploads are gone; their ids are refused after.
        aborted = self.s3.create_multipart_upload(Bucket=bucket, Key="aborted")["UploadId"]
        self.s3.upload_part(Bucket=bucket, Key="aborted", UploadId=aborted, PartNumber=1, Body=b"x")
        self.s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=aborted)
        for call in [
            lambda: self.s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=aborted),
            lambda: self.s3.upload_part(Bucket=bucket, Key="aborted", UploadId=aborted, PartNumber=2, Body=b"x"),
            lambda: self.s3.list_parts(Bucket=bucket, Key="aborted", UploadId=aborted),
        ]:
            with self.assertRaises(botocore.exceptions.ClientError) as error:
                call()
            self.assertEqual(code(error), "NoSuchUpload")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.upload_part(Bucket=bucket, Key="aborted", UploadId=upload_id, PartNumber=10001, Body=b"x")
        self.assertEqual(code(error), "InvalidArgument")
        with self.assertRaises(botocore.exceptions.ClientError) as error:
            self.s3.create_multipart_upload(Bucket="no-such-bucket", Key="k")
        self.assertEqual(code(error), "NoSuchBucket")

    def test_multipart_listing_pages_by_key_and_upload(self):
        bucket = self.bucket("multipart-listing")
        ids = {}
        for key in ["b", "a", "b", "c/1", "c/2"]:
            ids.setdefault(key, []).append(self.s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
        expected = [("a", ids["a"][0]), ("b", ids["b"][0]), ("b", ids["b"][1]), ("c/1", ids["c/1"][0]), ("c/2", ids["c/2"][0])]
        paged = [(item["Key"], item["UploadId"]) for page in self.s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, PaginationConfig={"PageSize": 2}) for item in page.get("Uploads", [])]
        self.assertEqual(paged, expected)
        rolled = self.s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
        self.assertEqual([item["Key"] for item in rolled["Uploads"]], ["a", "b", "b"])
        self.assertEqual([prefix["Prefix"] for prefix in rolled["CommonPrefixes"]], ["c/"])
        after = self.s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b", UploadIdMarker=ids["b"][0])
        self.assertEqual([(item["Key"], item["UploadId"]) for item in after["Uploads"]], expected[2:])
        # Deleting the bucket takes its unfinished uploads with it.
        self.s3.delete_bucket(Bucket=bucket)

    def test_upload_file_of_a_large_file_uses_multipart(self):
        bucket = self.bucket("large-files")
        folder = tempfile.mkdtemp()
        try:
            source = os.path.join(folder, "large.bin")
            data = os.urandom(17 * 1024 * 1024 + 123)
            with open(source, "wb") as file:
                file.write(data)
            config = boto3.s3.transfer.TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
            self.s3.upload_file(source, bucket, "large.bin", Config=config)
            head = self.s3.head_object(Bucket=bucket, Key="large.bin")
            self.assertTrue(head["ETag"].endswith('-3"'), head["ETag"])
            self.assertEqual(head["ContentLength"], len(data))
            target = os.path.join(folder, "back.bin")
            self.s3.download_file(bucket, "large.bin", target, Config=config)
            with open(target, "rb") as file:
                self.assertEqual(hashlib.sha256(file.read()).hexdigest(), hashlib.sha256(data).hexdigest())
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


class S3CompatibleStorageTest(S3Test):
    """The same bucket tests, with object bytes in a bucket of a real S3-compatible server."""

    @classmethod
    def setUpClass(cls):
        cls.moto = Moto()
        try:
            cls.server = Server(args=cls.moto.server_args())
        except Exception:
            cls.moto.stop()
            raise
        cls.s3 = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.moto.stop()

    def stored_blobs(self, bucket):
        return self.moto.blobs(f"{bucket}/")

    def test_object_bytes_are_in_the_backing_bucket(self):
        bucket = self.bucket("backed")
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"stored elsewhere")
        blobs = self.moto.blobs(f"{bucket}/")
        self.assertEqual(len(blobs), 1, blobs)
        self.assertEqual(self.moto.s3.get_object(Bucket=BACKING, Key=blobs[0])["Body"].read(), b"stored elsewhere")


class SweepTest(unittest.TestCase):
    """Replaced blobs and orphans (bytes a write stored but never committed, as a crash leaves
    them) are swept from the blob folder, while the parts of an unfinished upload stay."""

    SWEEPS = ["--blob-orphan-grace-seconds", "2", "--blob-sweep-seconds", "1", "--blob-garbage-delay-seconds", "1"]

    @classmethod
    def setUpClass(cls):
        cls.server = Server(args=cls.SWEEPS)
        cls.s3 = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def blobs(self, bucket):
        folder = os.path.join(self.server.folder, "data", "blobs", bucket)
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def plant_orphans(self, bucket):
        folder = os.path.join(self.server.folder, "data", "blobs", bucket)
        for name in ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210#1"]:
            with open(os.path.join(folder, name), "wb") as file:
                file.write(b"never committed")

    def wait_for_blobs(self, bucket, count):
        deadline = time.time() + 30
        while len(self.blobs(bucket)) != count:
            self.assertLess(time.time(), deadline, self.blobs(bucket))
            time.sleep(0.2)

    def test_orphans_and_replaced_blobs_are_swept(self):
        self.s3.create_bucket(Bucket="sweep")
        self.s3.put_object(Bucket="sweep", Key="k", Body=b"one")
        self.s3.put_object(Bucket="sweep", Key="k", Body=b"two")
        upload = self.s3.create_multipart_upload(Bucket="sweep", Key="parts")["UploadId"]
        part = self.s3.upload_part(Bucket="sweep", Key="parts", UploadId=upload, PartNumber=1, Body=b"part")
        self.plant_orphans("sweep")
        # What is left: the current version of k and the unfinished upload's part.
        self.wait_for_blobs("sweep", 2)
        self.assertEqual(self.s3.get_object(Bucket="sweep", Key="k")["Body"].read(), b"two")
        self.s3.complete_multipart_upload(Bucket="sweep", Key="parts", UploadId=upload,
                                          MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        self.wait_for_blobs("sweep", 2)
        self.assertEqual(self.s3.get_object(Bucket="sweep", Key="parts")["Body"].read(), b"part")


class S3CompatibleSweepTest(SweepTest):
    """The sweeps on S3-compatible storage."""

    @classmethod
    def setUpClass(cls):
        cls.moto = Moto()
        try:
            cls.server = Server(args=cls.SWEEPS + cls.moto.server_args())
        except Exception:
            cls.moto.stop()
            raise
        cls.s3 = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.moto.stop()

    def blobs(self, bucket):
        return sorted(self.moto.blobs(f"{bucket}/"))

    def plant_orphans(self, bucket):
        self.moto.s3.put_object(Bucket=BACKING, Key=f"{bucket}/0123456789abcdef0123456789abcdef", Body=b"never committed")


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
