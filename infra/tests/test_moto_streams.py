"""The launcher's moto keeps DynamoDB Streams true to DynamoDB: every committed change is
recorded once, in commit order, and a cancelled or rolled-back transaction leaves no record.
Run by the runner's tests (`cargo test -p local-runner --test moto_streams`):
`.venv/bin/python -m pytest infra/tests/test_moto_streams.py`."""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
import pytest

REGION = "eu-central-1"
LAUNCHER = os.path.join(os.path.dirname(__file__), "..", "moto_launcher.py")
# Fewer than the launcher's default, so that the test reaches the limit quickly.
KEPT_ITERATORS = 20


@pytest.fixture(scope="module")
def server():
    """The launcher as the runner starts it: a moto server on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, LAUNCHER, "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "DROPSHIP_MOTO_KEPT_ITERATORS": str(KEPT_ITERATORS)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        yield endpoint
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def aws(server):
    credentials = dict(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    urllib.request.urlopen(urllib.request.Request(server + "/moto-api/reset", method="POST"))
    ddb = boto3.client("dynamodb", endpoint_url=server, **credentials)
    streams = boto3.client("dynamodbstreams", endpoint_url=server, **credentials)
    arn = ddb.create_table(
        TableName="T",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    yield ddb, streams, arn


def records(streams, arn):
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return streams.get_records(ShardIterator=it["ShardIterator"], Limit=1000)["Records"]


def summary(streams, arn):
    return [
        (r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"].get("NewImage", {}).get("v", {}).get("S"))
        for r in records(streams, arn)
    ]


def put(pk, v):
    return {"Put": {"TableName": "T", "Item": {"pk": {"S": pk}, "v": {"S": v}}}}


def test_single_writes_record_once_each(aws):
    ddb, streams, arn = aws
    ddb.put_item(TableName="T", Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    ddb.put_item(TableName="T", Item={"pk": {"S": "a"}, "v": {"S": "1"}})  # changes nothing
    ddb.update_item(
        TableName="T", Key={"pk": {"S": "b"}}, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"S": "2"}}
    )
    ddb.update_item(
        TableName="T", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"S": "3"}}
    )
    ddb.delete_item(TableName="T", Key={"pk": {"S": "b"}})
    ddb.delete_item(TableName="T", Key={"pk": {"S": "nothing"}})
    ddb.batch_write_item(
        RequestItems={"T": [{"PutRequest": {"Item": {"pk": {"S": k}, "v": {"S": "4"}}}} for k in ("c", "d")]}
    )
    assert summary(streams, arn) == [
        ("INSERT", "a", "1"),
        ("INSERT", "b", "2"),
        ("MODIFY", "a", "3"),
        ("REMOVE", "b", None),
        ("INSERT", "c", "4"),
        ("INSERT", "d", "4"),
    ]
    removed = records(streams, arn)[3]["dynamodb"]
    assert removed["OldImage"]["v"]["S"] == "2" and "NewImage" not in removed


def test_a_transaction_records_each_committed_change_once(aws):
    ddb, streams, arn = aws
    ddb.put_item(TableName="T", Item={"pk": {"S": "gone"}, "v": {"S": "0"}})
    ddb.transact_write_items(
        TransactItems=[
            put("x", "1"),
            {
                "Update": {
                    "TableName": "T",
                    "Key": {"pk": {"S": "y"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "2"}},
                }
            },
            {"Delete": {"TableName": "T", "Key": {"pk": {"S": "gone"}}}},
            {"ConditionCheck": {"TableName": "T", "Key": {"pk": {"S": "z"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    )
    assert summary(streams, arn) == [
        ("INSERT", "gone", "0"),
        ("INSERT", "x", "1"),
        ("INSERT", "y", "2"),
        ("REMOVE", "gone", None),
    ]


def test_cancelled_and_rolled_back_transactions_leave_no_record(aws):
    ddb, streams, arn = aws
    ddb.put_item(TableName="T", Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                put("new", "1"),
                {"ConditionCheck": {"TableName": "T", "Key": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )
    # Passes the checks, fails while applying (ADD to a string): the first put is undone.
    with pytest.raises(Exception):
        ddb.transact_write_items(
            TransactItems=[
                put("b", "2"),
                {
                    "Update": {
                        "TableName": "T",
                        "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "ADD v :n",
                        "ExpressionAttributeValues": {":n": {"N": "1"}},
                    }
                },
            ]
        )
    assert "Item" not in ddb.get_item(TableName="T", Key={"pk": {"S": "b"}})
    assert summary(streams, arn) == [("INSERT", "a", "1")]


def test_concurrent_writes_get_distinct_sequence_numbers_in_commit_order(aws):
    ddb, streams, arn = aws

    def writer(n):
        for i in range(40):
            ddb.update_item(
                TableName="T",
                Key={"pk": {"S": f"k{n % 2}"}},
                UpdateExpression="ADD c :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = records(streams, arn)
    assert len(got) == 240
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in got]
    assert len(set(sequence)) == 240 and sequence == sorted(sequence)
    for key in ("k0", "k1"):
        counts = [int(r["dynamodb"]["NewImage"]["c"]["N"]) for r in got if r["dynamodb"]["Keys"]["pk"]["S"] == key]
        assert counts == list(range(1, 121))



def test_only_the_newest_shard_iterators_are_kept(aws):
    ddb, streams, arn = aws
    ddb.put_item(TableName="T", Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    first = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    it = first
    for _ in range(KEPT_ITERATORS + 2):
        it = streams.get_records(ShardIterator=it)["NextShardIterator"]
    assert streams.get_records(ShardIterator=it)["Records"] == []
    with pytest.raises(Exception):
        streams.get_records(ShardIterator=first)
