export { FakeGraph } from './fake-graph';
export type {
  FakeGraphChangeType,
  FakeGraphDelivery,
  FakeGraphFault,
  FakeGraphEmailAddress,
  FakeGraphLifecycleEvent,
  FakeGraphLostNotification,
  FakeGraphMessage,
  FakeGraphMessageInput,
  FakeGraphOptions,
  FakeGraphRecipient,
  FakeGraphRequest,
  FakeGraphSentMail,
  FakeGraphSubscription,
  FakeGraphThrottleOptions,
  FakeGraphUploadChunk,
} from './types';
