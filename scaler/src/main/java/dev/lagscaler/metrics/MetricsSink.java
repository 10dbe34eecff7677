package dev.lagscaler.metrics;

import dev.lagscaler.feed.v1.MetricUpdate;

/** Where the controller sends the metric values the HPA will read (the gRPC feed to the metrics adapter). */
public interface MetricsSink {
    MetricsSink NONE = new MetricsSink() {
        @Override
        public void publish(MetricUpdate update) {
        }

        @Override
        public void removeObject(String namespace, String scaledObject) {
        }
    };

    void publish(MetricUpdate update);

    /** Every metric of a ScaledObject is gone (it was deleted or can no longer be measured). */
    void removeObject(String namespace, String scaledObject);

    /**
     * Whether this process leads. Only a leader's values are true: a standby's sink must not serve what it does not
     * measure (an adapter connected to it would otherwise be ready with nothing).
     */
    default void leading(boolean leading) {
    }
}
