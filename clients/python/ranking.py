"""The 月讲评 integration's pull, with Python `gql` and its defaults.

    KAOHE_URL=http://127.0.0.1:8080/graphql KAOHE_USERNAME=xc-yuejiangping \
    KAOHE_PASSWORD=… python ranking.py [--organisation xuchang] [--period 2026-03]

Signs in, reads the schema from the server (`fetch_schema_from_transport`,
so every document is validated locally before it is sent), pulls the
published ranking of a month, pulls again with `updatedSince` (nothing new
comes back), and pages a connection to its end. Exits non-zero when an
answer breaks the contract.
"""

import argparse
import os
import sys
from decimal import Decimal

from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

SIGN_IN = gql(
    """
    mutation SignIn($u: String!, $p: String!) {
      login(username: $u, password: $p) { accessToken expiresIn }
    }
    """
)

RANKING = gql(
    """
    query Ranking($org: String!, $period: String!, $since: DateTime) {
      monthlyRanking(organisationCode: $org, period: $period, updatedSince: $since) {
        rank unitName finalScore publishedAt revision
      }
    }
    """
)

RUNS = gql(
    """
    query Runs($org: String!, $first: Int!, $after: String) {
      scoreRuns(organisationCode: $org, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id period status } }
      }
    }
    """
)


def client(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = RequestsHTTPTransport(url=url, headers=headers, timeout=30)
    return Client(transport=transport, fetch_schema_from_transport=True)


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--organisation", default="xuchang")
    args.add_argument("--period", default=None, help="default: the newest published month")
    opts = args.parse_args()
    url = os.environ["KAOHE_URL"]

    with client(url) as anonymous:
        session = anonymous.execute(
            SIGN_IN, variable_values={"u": os.environ["KAOHE_USERNAME"], "p": os.environ["KAOHE_PASSWORD"]}
        )
    token = session["login"]["accessToken"]

    with client(url, token) as api:
        # Page every run of the organisation, by cursor.
        runs, after = [], None
        while True:
            page = api.execute(RUNS, variable_values={"org": opts.organisation, "first": 2, "after": after})
            conn = page["scoreRuns"]
            runs += [e["node"] for e in conn["edges"]]
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
        assert len(runs) == conn["totalCount"], (len(runs), conn["totalCount"])
        published = [r for r in runs if r["status"] == "PUBLISHED"]
        if not published:
            print(f"no published run in {opts.organisation}", file=sys.stderr)
            return 1
        period = opts.period or max(r["period"] for r in published)

        rows = api.execute(RANKING, variable_values={"org": opts.organisation, "period": period})["monthlyRanking"]
        assert rows, "an empty ranking"
        # Exact decimals arrive as strings: read them as Decimal, never float.
        total = sum(Decimal(r["finalScore"]) for r in rows)
        for r in rows:
            print(f'{r["rank"]:>3} {r["unitName"]:<12} {Decimal(r["finalScore"]):>7}')
        print(f"{period}: {len(rows)} units, sum of scores {total}")

        # The next pull asks only for what was published since the last one.
        newest = max(r["publishedAt"] for r in rows)
        again = api.execute(RANKING, variable_values={"org": opts.organisation, "period": period, "since": newest})
        assert again["monthlyRanking"] == [], again

        # Errors carry a code: a page size out of 1..100 is BAD_USER_INPUT.
        try:
            api.execute(RUNS, variable_values={"org": opts.organisation, "first": 0})
            print("first: 0 was accepted", file=sys.stderr)
            return 1
        except TransportQueryError as e:
            code = (e.errors or [{}])[0].get("extensions", {}).get("code")
            assert code == "BAD_USER_INPUT", e.errors
    return 0


if __name__ == "__main__":
    sys.exit(main())
