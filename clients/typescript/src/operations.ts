// The typical operations of kaohe's users (README "Limits" lists what each costs).
import { graphql } from "./gql/index.js";

export const SignIn = graphql(`
  mutation SignIn($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      accessToken
      refreshToken
      expiresIn
    }
  }
`);

/** Runs of an organisation, newest first (a department head's start page). */
export const ScoreRuns = graphql(`
  query ScoreRuns($organisationCode: String!, $first: Int!, $after: String) {
    scoreRuns(organisationCode: $organisationCode, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          title
          period
          status
          version
        }
      }
    }
  }
`);

/** A department head's page: a run, its sections and indicators, one unit's observations. */
export const DepartmentPage = graphql(`
  query DepartmentPage($runId: ID!, $unitId: ID!, $department: String!) {
    scoreRun(id: $runId) {
      id
      title
      status
      rubricVersion {
        label
        sections {
          code
          title
          maxPoints
          children {
            code
            title
            maxPoints
          }
        }
      }
      observations(unitId: $unitId, department: $department, first: 100) {
        totalCount
        edges {
          node {
            id
            version
            ruleCode
            status
            facts { count points level flag }
            note
          }
        }
      }
    }
  }
`);

/** The 月讲评 pull: the published ranking of a month, only what changed since the last pull. */
export const MonthlyRanking = graphql(`
  query MonthlyRanking($organisationCode: String!, $period: String!, $updatedSince: DateTime) {
    monthlyRanking(organisationCode: $organisationCode, period: $period, updatedSince: $updatedSince) {
      rank
      unitName
      finalScore
      base
      bonus
      penalty
      revision
      publishedAt
      sections {
        code
        weighted
      }
    }
  }
`);

/** A results page of up to 100 units. */
export const ResultsPage = graphql(`
  query ResultsPage($runId: ID!, $first: Int!, $after: String) {
    scoreRun(id: $runId) {
      results(first: $first, after: $after) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            rank
            unitName
            finalScore
            sections {
              code
              score
            }
          }
        }
      }
    }
  }
`);

/** One entry of a month: an observation, retried safely with its idempotency key. */
export const RecordObservation = graphql(`
  mutation RecordObservation($input: RecordObservationInput!) {
    recordObservation(input: $input) {
      id
      version
      ruleCode
    }
  }
`);
