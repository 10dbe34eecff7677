package dev.lagscaler.plan;

import dev.lagscaler.trigger.KafkaTriggerSettings;

/** One entry of spec.triggers after its type has read it: what it measures and which HPA metric it feeds. */
public sealed interface ResolvedTrigger {
    int index();

    String type();

    /** A kafka trigger: polled by the lag engine, served to the HPA as an External metric. */
    record Kafka(int index, KafkaTriggerSettings settings) implements ResolvedTrigger {
        @Override
        public String type() {
            return "kafka";
        }

        public HpaBuilder.Metric metric() {
            return HpaBuilder.Metric.external(settings.metricName(index), settings.metricType().kubernetesName(),
                    settings.lagThreshold());
        }

        /**
         * The time-lag metric when {@code lagSecondsThreshold} is set: a Value target, so the HPA scales the current
         * replicas by (oldest record's age / threshold); it takes the larger of this and the records metric.
         */
        public HpaBuilder.Metric lagSecondsMetric() {
            return settings.lagSecondsThreshold() == null ? null : HpaBuilder.Metric.external(
                    settings.lagSecondsMetricName(index), "Value", settings.lagSecondsThreshold());
        }

        /** Active by records (KEDA's rule), or by the oldest record's age past activationLagSecondsThreshold. */
        public boolean active(dev.lagscaler.lag.TriggerResult.Measured m) {
            Double seconds = m.timeLag().maxSeconds();
            return m.lag().active() || (settings.lagSecondsThreshold() != null && seconds != null
                    && seconds > settings.activationLagSecondsThreshold());
        }
    }

    /** cpu or memory: the HPA reads it from the resource metrics API; it never activates from zero. */
    record Resource(int index, String type, HpaBuilder.Metric metric) implements ResolvedTrigger {
    }

    /**
     * Its metadata or auth did not parse; {@code message} names the field and never quotes a secret.
     * {@code metricName} is the External metric it would feed, when its metadata still says (else null): the adapter
     * answers it with an error, so the HPA holds instead of acting on the last value.
     */
    record Invalid(int index, String type, String message, String metricName) implements ResolvedTrigger {
        public Invalid(int index, String type, String message) {
            this(index, type, message, null);
        }
    }

    /** A trigger type lagscaler does not implement. */
    record Unsupported(int index, String type) implements ResolvedTrigger {
    }
}
