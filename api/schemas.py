"""Response and request bodies, described field by field for the OpenAPI docs at ``/docs``.

Models read the library's dataclasses (``from_attributes``); they add no logic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

Platform = Annotated[str, Field(description="The platform, as the dump named it.", examples=["twitter"])]
AccountId = Annotated[str, Field(description="The account's id on its platform (a string, never a "
                                 "rounded number).", examples=["2882331822"])]
Handle = Annotated[str | None, Field(description="The screen name, when the dump had it.",
                                     examples=["TEN_GOP"])]
PostId = Annotated[str, Field(description="The post's id on its platform.",
                              examples=["784609194234306560"])]
CampaignId = Annotated[str, Field(description="The campaign's id within its detection run.",
                                  examples=["C1"])]
Score = Annotated[float, Field(description="Coordination score in [0, 1] (a signal, not a verdict).",
                               examples=[0.83])]
Flagged = Annotated[bool, Field(description="Score at or above the detection's threshold.")]
DetectionId = Annotated[int | None, Field(description="The detection run the answer comes from "
                                          "(the latest).", examples=[3])]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(Model):
    code: str = Field(description="A stable, machine-readable name of the error.",
                      examples=["not_found"])
    message: str = Field(description="What went wrong and how to fix it, for people.",
                         examples=["no campaign C999"])
    detail: object | None = Field(None, description="Structured detail: the invalid fields, "
                                  "the limit that was hit...")


class ErrorResponse(Model):
    error: ErrorBody = Field(description="What went wrong.")


class Page(Model, Generic[T]):
    items: list[T] = Field(description="This page of results, in the requested order.")
    total: int = Field(description="How many results the whole (filtered) list has.",
                       examples=[1234])
    limit: int = Field(description="The page size asked for.", examples=[50])
    offset: int = Field(description="How many results were skipped before this page.", examples=[0])


class Job(Model):
    id: int = Field(description="The job's number; poll `GET /v1/jobs/{id}`.", examples=[7])
    kind: str = Field(description="`ingest` (an upload), `delete` (a dataset), `detect`, or `purge` (posts "
                      "older than the retention period, `CIB_RETENTION_DAYS`).",
                      examples=["ingest"])
    state: str = Field(description="`queued`, `running`, `done` or `failed`.", examples=["running"])
    stage: str = Field(description="What the job is doing: `queued`, `reading`, "
                       "`deleting`, `purging`, `detecting` (which also indexes the texts for "
                       "lookups), `done`, `skipped` (same file as before) or "
                       "`failed`.", examples=["reading"])
    percent: float = Field(description="Progress, 0-100 (reading is 80 of it, by bytes of the file).",
                           examples=[42.5])
    filename: str | None = Field(description="The uploaded file's name (display only).",
                                 examples=["tweets.jsonl.gz"])
    size_bytes: int = Field(description="Size of the upload as received.", examples=[1048576])
    format: str | None = Field(description="The format asked for, or null to sniff it.",
                               examples=[None])
    dataset_id: int | None = Field(description="The dataset the upload became (or the one deleted).")
    detection_id: int | None = Field(description="The detection run made when the job finished.")
    read: int = Field(description="Records read so far (stored + duplicates + rejected).")
    stored: int = Field(description="New posts stored (for a deletion: posts removed).")
    duplicates: int = Field(description="Posts already in the database, skipped.")
    rejected: int = Field(description="Records refused; see the dataset's `rejections`.")
    attempts: int = Field(description="How many times a worker started the job (more than 1 after "
                          "a crash: the job is redone, never doubled).")
    error_code: str | None = Field(description="Why the job failed, as a stable code.")
    error: str | None = Field(description="Why the job failed, for people.")
    created_at: datetime = Field(description="When the job was accepted (UTC).")
    started_at: datetime | None = Field(description="When a worker first started it.")
    finished_at: datetime | None = Field(description="When it ended (done or failed).")


class Rejection(Model):
    source: str = Field(description="File (or archive member) of the record.")
    line: int = Field(description="Line of the record in that file.")
    field: str = Field(description="The field that was wrong.")
    message: str = Field(description="Why it was refused.")


class Dataset(Model):
    id: int = Field(description="The dataset's number.", examples=[1])
    name: str = Field(description="The uploaded or ingested file's name.", examples=["tweets.jsonl.gz"])
    sha256: str = Field(description="SHA-256 of the file: the same file is never ingested twice.")
    format: str = Field(description="Format(s) read: twarc2, v1, ioarchive, coortweet, ira, csv.")
    size_bytes: int = Field(description="Size of the file as stored (compressed if it was).")
    status: str = Field(description="`running`, `complete`, `failed` or `interrupted`; only complete "
                        "datasets are used by detection.")
    read: int = Field(description="Records read: stored + duplicates + rejected.", examples=[8226])
    stored: int = Field(description="Posts this dataset added (it owns them).", examples=[8200])
    duplicates: int = Field(description="Posts already in the database, skipped.")
    rejected: int = Field(description="Records refused (see `rejections`).")
    error: str | None = Field(description="Why the ingest failed, when it did.")
    started_at: datetime = Field(description="When its ingest started (UTC).")
    finished_at: datetime | None = Field(description="When its ingest ended.")
    rejections: list[Rejection] = Field(default_factory=list,
                                        description="The first rejected records (dataset detail only).")


class Reason(Model):
    feature: str = Field(description="A feature of the trained scorer (see models/scorer.json).",
                         examples=["log_strength"])
    contribution: float = Field(description="How far it moved the score, in log-odds before "
                                "calibration: positive raised it, negative lowered it.",
                                examples=[1.42])


class Account(Model):
    platform: Platform
    account_id: AccountId
    handle: Handle
    score: float = Field(description="Coordination score in [0, 1]: how strongly this account's "
                         "posts coincide with other accounts' (a signal, not a verdict).",
                         examples=[0.83])
    threshold: float = Field(description="Scores at or above it are flagged.", examples=[0.5])
    flagged: bool = Field(description="Score at or above the threshold.")
    campaign_id: str | None = Field(description="Its best-ranked campaign.", examples=["C3"])
    subscores: dict[str, float] = Field(description="The parts of the score (e.g. sync, repeat, "
                                        "concentration), each in [0, 1].")
    features: dict[str, float] = Field(description="The measurements the score was computed from.")
    explanation: list[Reason] = Field(default_factory=list, description=(
        "The features that pushed the score most, largest first, when a trained scorer made it "
        "(empty for the rule, whose parts are the sub-scores)."))


class Evidence(Model):
    campaign_id: CampaignId
    event: int = Field(description="Number of the co-action event within its campaign.")
    signal: str = Field(description="`text` (near-duplicate), `repost`, `link`, `reply` or `hashtags`.")
    platform: Platform
    account_id: AccountId
    handle: Handle
    post_id: PostId
    posted_at: datetime = Field(description="When the post was made (UTC).")
    delay_s: float = Field(description="Seconds after the event's first post.")
    event_size: int = Field(description="Accounts in the event.")
    similarity: float | None = Field(description="For text events: estimated Jaccard similarity to "
                                     "the event's first post.")
    text: str = Field(description="The post's text (empty if its dataset was deleted).")
    url: str | None = Field(description="Link to the post on its platform.")


class Profile(Model):
    handle: Handle = None
    name: str | None = Field(None, description="The display name.")
    created_at: datetime | None = Field(None, description="When the account was created.")
    followers: int | None = Field(None, description="Followers when the dump was made.")
    following: int | None = Field(None, description="Accounts it followed.")
    posts_count: int | None = Field(None, description="Posts it had made in all.")


class AccountDetail(Model):
    account: Account = Field(validation_alias="summary", description="The score and its parts.")
    campaigns: list[str] = Field(description="Every campaign it is a member of, best-ranked first.")
    evidence: list[Evidence] = Field(description="The posts that tie it to other accounts, its own "
                                     "and theirs, with times and links.")
    profile: Profile | None = Field(description="What the dumps said about the account.")
    detection_id: DetectionId = None


class Campaign(Model):
    campaign_id: CampaignId
    rank: int = Field(description="1 is the strongest campaign.")
    kind: str = Field(description="`network` (accounts tied by repeated co-action) or `relay` "
                      "(many accounts posting one text in one burst).")
    score: float = Field(description="Campaign score in [0, 1].")
    size: int = Field(description="Member accounts.")
    start: datetime = Field(description="Its first evidence post (UTC).")
    end: datetime = Field(description="Its last evidence post (UTC).")
    span_seconds: float = Field(description="From start to end, in seconds.", examples=[5400.0])
    signals: list[str] = Field(description="The kinds of co-action that tie it.", examples=[["text"]])
    events: int = Field(description="Co-action events (bursts) in the campaign.")
    representative_text: str = Field(description="The text of its largest event.")


class Member(Model):
    platform: Platform
    account_id: AccountId
    handle: Handle
    score: Score
    flagged: Flagged
    campaign_id: str | None = Field(description="The member's best-ranked campaign (maybe another).")


class Message(Model):
    signal: str = Field(description="How the content was shared: text, repost, link...")
    content_key: str = Field(description="What was shared: a text cluster, a post id, a URL...")
    text: str = Field(description="The first post of its biggest burst.")
    posts: int = Field(description="Evidence posts sharing it.")
    accounts: int = Field(description="Distinct accounts among them.")
    first: datetime = Field(description="Its first post.")
    last: datetime = Field(description="Its last post.")


class Bucket(Model):
    start: datetime = Field(description="Start of the minute, hour or day (UTC).")
    posts: int = Field(description="Evidence posts in the bucket.")
    accounts: int = Field(description="Distinct accounts among them.")


class CampaignDetail(Model):
    campaign: Campaign = Field(validation_alias="summary", description="The campaign's summary.")
    features: dict[str, float] = Field(description="The measurements its score was computed from "
                                       "(size, tightness, repetition, account ages...).")
    members: Page[Member] = Field(description="Member accounts, highest score first.")
    messages: list[Message] = Field(description="The contents it pushed, most-posted first.")
    bucket: str = Field(description="Timeline bucket: `minute`, `hour` or `day`.")
    timeline: list[Bucket] = Field(description="Evidence posts per bucket, empty buckets included.")
    evidence: Page[Evidence] = Field(description="Posts of its events, largest events first.")
    detection_id: DetectionId = None


class LookupRequest(Model):
    text: str = Field(min_length=1, max_length=10_000, description=(
        "The message to look for: at least 5 characters of its own once links, mentions and a "
        "retweet prefix are set aside (else 422 `text_too_short`)."),
        examples=["Hillary's emails prove it. Share before they delete this!"])
    since: datetime | None = Field(None, description="Only posts at or after this time (UTC).")
    until: datetime | None = Field(None, description="Only posts before this time (UTC).")
    limit: int = Field(50, ge=1, le=500, description="How many matching posts to return.")


class LookupMatch(Model):
    platform: Platform
    post_id: PostId
    account_id: AccountId
    handle: Handle
    created_at: datetime = Field(description="When the post was made (UTC).")
    text: str = Field(description="The post's text.")
    similarity: float = Field(description="Estimated Jaccard similarity of the normalized texts "
                              "(character 5-grams); 1 is the same text.")
    url: str | None = Field(None, description="Link to the post on its platform.")


class LookupAccount(Model):
    platform: Platform
    account_id: AccountId
    handle: Handle
    posts: int = Field(description="Matching posts by this account.")
    first_at: datetime = Field(description="Its first matching post.")
    last_at: datetime = Field(description="Its last matching post.")
    score: float | None = Field(None, description="Its coordination score in the latest detection.")
    flagged: bool | None = Field(None, description="Flagged in the latest detection.")
    campaigns: list[str] = Field(default_factory=list, description="Campaigns it belongs to.")


class LookupResult(Model):
    relayed: bool = Field(description="True when matching posts come from accounts in a campaign.")
    total_matches: int = Field(description="Matching posts in all (only `limit` are listed).")
    matches: list[LookupMatch] = Field(description="Most similar first, then oldest first.")
    accounts: list[LookupAccount] = Field(description="Who posted the matches, most posts first "
                                          "(at most `limit`).")
    total_accounts: int = Field(description="Accounts that posted matches, in all.")
    campaigns: list[Campaign] = Field(description="The campaigns the matching accounts belong to.")
    candidates_checked: int = Field(description="Posts whose similarity was computed.")
    truncated: bool = Field(description="More candidates than could be verified; results are partial.")
    unindexed_posts: int = Field(description="Posts stored but not yet searchable: each detection "
                                 "indexes them (an upload's job, or `cib detect`).")
    detection_id: DetectionId = None


class Health(Model):
    status: str = Field(description="`ok`, or `unavailable` (with status 503).", examples=["ok"])
    database: str = Field(description="`ok` or the error reaching it.")
    schema_revision: str | None = Field(description="The database schema's migration.")
    posts: int = Field(description="Posts stored.")
    latest_detection: int | None = Field(description="The detection run reads are about.")
    queue: str = Field(description="The job queue backend: `sqlite` or `redis`.")
    jobs_queued: int = Field(description="Jobs waiting for a worker.")
    jobs_running: int = Field(description="Jobs being run.")
    version: str = Field(description="The cib-detector version serving.")
