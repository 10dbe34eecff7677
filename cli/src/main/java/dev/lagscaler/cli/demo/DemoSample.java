package dev.lagscaler.cli.demo;

/**
 * One second of the demo as the cluster and Kafka saw it: records produced per second, the group's total lag, the
 * metric value the adapter serves, the HPA's desired replicas (null before it exists), the Deployment's replicas,
 * the consumers running, and the ScaledObject's Active and Fallback conditions.
 */
public record DemoSample(double seconds, long producedPerSecond, long lag, Double metricValue, Integer hpaDesired,
                         int replicas, int consumers, boolean active, boolean fallback) {
}
