export { FakeGraph } from './fake-graph';
export type {
  FakeGraphChangeType,
  FakeGraphDelivery,
  FakeGraphEmailAddress,
  FakeGraphLifecycleEvent,
  FakeGraphLostNotification,
  FakeGraphMessage,
  FakeGraphMessageInput,
  FakeGraphOptions,
  FakeGraphRecipient,
  FakeGraphRequest,
  FakeGraphSubscription,
  FakeGraphThrottleOptions,
} from './types';
