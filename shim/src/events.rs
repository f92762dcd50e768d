//! Task events for containerd: create, start, exec added and started, exit,
//! delete.

use std::sync::Arc;

use containerd_shim::Context;
use containerd_shim::protos::protobuf::MessageDyn;
use containerd_shim::publisher::RemotePublisher;

/// Publishes events in the shim's namespace.
#[derive(Clone)]
pub struct Events {
    publisher: Arc<RemotePublisher>,
    namespace: String,
}

impl Events {
    /// Events through `publisher`, for `namespace`.
    pub fn new(publisher: RemotePublisher, namespace: &str) -> Self {
        Events {
            publisher: Arc::new(publisher),
            namespace: namespace.to_string(),
        }
    }

    /// Queues `event` under `topic`. The publisher retries on its own; an
    /// event it cannot even queue is logged, as the task request it
    /// belongs to has succeeded regardless.
    pub async fn publish(&self, topic: &str, event: impl MessageDyn) {
        let published = self
            .publisher
            .publish(Context::default(), topic, &self.namespace, Box::new(event))
            .await;
        if let Err(e) = published {
            log::error!("publish {topic} event: {e}");
        }
    }
}
