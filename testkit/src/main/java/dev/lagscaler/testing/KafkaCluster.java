package dev.lagscaler.testing;

/** A running Kafka cluster the tests and the demo talk to: embedded child processes or a Testcontainers broker. */
public interface KafkaCluster extends AutoCloseable {
    /** The PLAINTEXT bootstrap servers, {@code host:port,...}. */
    String bootstrapServers();

    int brokerCount();

    @Override
    void close();
}
