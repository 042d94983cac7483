"""One metrics scraper and one wait."""
import re
import time

from harness.net import request

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(url, timeout=10):
    """GET `url` (a server's /metrics): its samples as (name, {label: value}, float value); the answer must be 200."""
    status, _, body = request("GET", url, timeout=timeout)
    assert status == 200, (status, body[:500])
    samples = []
    for line in body.decode().splitlines():
        sample = _SAMPLE.match(line)
        if sample and not line.startswith("#"):
            samples.append((sample[1], dict(_LABEL.findall(sample[2] or "")), float(sample[3])))
    return samples


def metric(url, name, **labels):
    """The value of the sample `name{labels}` at `url`, summed over the samples whose labels include `labels` (the
    workers' and any other label's); 0 when there is none."""
    return sum(value for sample, have, value in scrape(url) if sample == name and labels.items() <= have.items())


def metric_by(url, name, label, **labels):
    """{value of `label`: the summed value} over the samples of `name` whose labels include `labels`."""
    out = {}
    for sample, have, value in scrape(url):
        if sample == name and label in have and labels.items() <= have.items():
            out[have[label]] = out.get(have[label], 0) + value
    return out


def wait_for(predicate, timeout=10.0, what="the condition", interval=0.05):
    """Calls `predicate` every `interval` seconds until it returns something true, and returns that; fails naming
    `what` (text, or a function giving it then, to show the state at the end) once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
        time.sleep(interval)
