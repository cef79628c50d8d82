// The GraphQL schema of the W&B API subset the launch agent and `wandb launch` use
// (see docs/wandb-emulator.md for where each field comes from). Written from the
// operations the wandb SDK sends; a query for a field outside it fails validation with
// graphql-js's own "Cannot query field ..." message, as W&B's server does.
import { buildSchema, type GraphQLSchema } from "graphql";

export const SDL = `
scalar JSONString
"""A JSON value sent as itself (popFromRunQueue's runSpec: the agent uses it as a dict)."""
scalar JSON
scalar DateTime

type Query {
  viewer: User
  entity(name: String!): Entity
  project(name: String, entityName: String): Project
  launchAgent(id: ID!): LaunchAgent
}

type User {
  id: ID!
  entity: String
  username: String
  email: String
  admin: Boolean
  flags: JSONString
  teams: EntityConnection
}

type EntityConnection { edges: [EntityEdge!]! }
type EntityEdge { node: Entity }

type Entity {
  id: ID!
  name: String!
  isTeam: Boolean!
}

type Project {
  id: ID!
  name: String!
  entityName: String!
  runQueues: [RunQueue!]!
  runQueue(name: String!): RunQueue
}

type RunQueue {
  id: ID!
  name: String!
  createdBy: String
  access: String!
  runQueueItems: RunQueueItemConnection!
}

type RunQueueItemConnection { edges: [RunQueueItemEdge!]! }
type RunQueueItemEdge { node: RunQueueItem! }

type RunQueueItem {
  id: ID!
  state: String!
  runSpec: JSON
  associatedRunId: String
  priority: Int
  error: RunQueueItemError
  warnings: [RunQueueItemWarning!]!
  createdAt: DateTime
}

type RunQueueItemError { message: String!, stage: String!, filePaths: [String!] }
type RunQueueItemWarning { message: String!, stage: String!, filePaths: [String!] }

type LaunchAgent {
  id: ID!
  name: String!
  runQueues: [ID!]!
  hostname: String!
  agentStatus: String
  stopPolling: Boolean!
  heartbeatAt: DateTime
  version: String
}

type Mutation {
  createRunQueue(input: CreateRunQueueInput!): CreateRunQueuePayload
  pushToRunQueueByName(input: PushToRunQueueByNameInput!): PushToRunQueueByNamePayload
  pushToRunQueue(input: PushToRunQueueInput!): PushToRunQueuePayload
  popFromRunQueue(input: PopFromRunQueueInput!): PopFromRunQueuePayload
  ackRunQueueItem(input: AckRunQueueItemInput!): AckRunQueueItemPayload
  failRunQueueItem(input: FailRunQueueItemInput!): FailRunQueueItemPayload
  updateRunQueueItemWarning(input: UpdateRunQueueItemWarningInput!): UpdateRunQueueItemWarningPayload
  createLaunchAgent(input: CreateLaunchAgentInput!): CreateLaunchAgentPayload
  updateLaunchAgent(input: UpdateLaunchAgentInput!): UpdateLaunchAgentPayload
}

input CreateRunQueueInput {
  entityName: String!
  projectName: String!
  queueName: String!
  access: String!
  prioritizationMode: String
  defaultResourceConfigID: ID
  clientMutationId: String
}
type CreateRunQueuePayload { success: Boolean, queueID: ID }

input PushToRunQueueByNameInput {
  entityName: String!
  projectName: String!
  queueName: String!
  runSpec: JSONString!
  templateVariableValues: JSONString
  priority: Int
  clientMutationId: String
}
type PushToRunQueueByNamePayload { runQueueItemId: ID!, runSpec: JSONString }

input PushToRunQueueInput {
  queueID: ID!
  runSpec: JSONString!
  templateVariableValues: JSONString
  priority: Int
  clientMutationId: String
}
type PushToRunQueuePayload { runQueueItemId: ID!, runSpec: JSONString }

input PopFromRunQueueInput {
  entityName: String!
  projectName: String!
  queueName: String!
  launchAgentId: ID
  clientMutationId: String
}
type PopFromRunQueuePayload { runQueueItemId: ID!, runSpec: JSON! }

input AckRunQueueItemInput { runQueueItemId: ID!, runName: String!, clientMutationId: String }
type AckRunQueueItemPayload { success: Boolean }

input FailRunQueueItemInput {
  runQueueItemId: ID!
  message: String!
  stage: String!
  filePaths: [String!]
  clientMutationId: String
}
type FailRunQueueItemPayload { success: Boolean }

input UpdateRunQueueItemWarningInput {
  runQueueItemId: ID!
  message: String!
  stage: String!
  filePaths: [String!]
  clientMutationId: String
}
type UpdateRunQueueItemWarningPayload { success: Boolean }

input CreateLaunchAgentInput {
  entityName: String!
  projectName: String!
  runQueues: [ID!]!
  hostname: String!
  agentConfig: JSONString
  version: String
  gorillaAgentVersion: String
  clientMutationId: String
}
type CreateLaunchAgentPayload { success: Boolean, launchAgentId: ID! }

input UpdateLaunchAgentInput {
  launchAgentId: ID!
  agentStatus: String
  agentConfig: JSONString
  clientMutationId: String
}
type UpdateLaunchAgentPayload { success: Boolean }
`;

export function wandbSchema(): GraphQLSchema {
  return buildSchema(SDL);
}
