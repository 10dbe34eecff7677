package dev.lagscaler.testing;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/** A Testcontainers Kafka broker, used only when asked for and a Docker engine answers. */
final class ContainerKafka implements KafkaCluster {
    private static final String IMAGE = "apache/kafka:4.1.0";
    private final KafkaContainer container;

    private ContainerKafka(KafkaContainer container) {
        this.container = container;
    }

    /** Why Testcontainers cannot run here, or null when it can. */
    static String unavailableReason() {
        try {
            return DockerClientFactory.instance().isDockerAvailable() ? null
                    : "Testcontainers Kafka requested, but no Docker engine is reachable on this machine";
        } catch (RuntimeException | LinkageError e) {
            return "Testcontainers Kafka requested, but Docker could not be queried: " + e.getMessage();
        }
    }

    static ContainerKafka start() {
        KafkaContainer container = new KafkaContainer(IMAGE);
        container.start();
        return new ContainerKafka(container);
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }

    @Override
    public int brokerCount() {
        return 1;
    }

    @Override
    public void close() {
        container.stop();
    }
}
