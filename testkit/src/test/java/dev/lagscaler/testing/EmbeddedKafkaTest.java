package dev.lagscaler.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

@WithKafka
class EmbeddedKafkaTest {

    @Test
    void brokerAcceptsTopicsAndRecords(KafkaCluster kafka) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("smoke", 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            KafkaTestData.produce(kafka.bootstrapServers(), "smoke", 2, 7);
            long end = admin.listOffsets(Map.of(new TopicPartition("smoke", 2), OffsetSpec.latest()))
                    .all().get(30, TimeUnit.SECONDS).get(new TopicPartition("smoke", 2)).offset();
            assertEquals(7, end);
            assertEquals(1, admin.describeCluster().nodes().get().size());
        }
        if (kafka instanceof EmbeddedKafka embedded) {
            System.out.println("embedded kafka single-node startup: " + embedded.startupTime().toMillis() + " ms");
            assertTrue(embedded.startupTime().toSeconds() < 60, "startup took " + embedded.startupTime());
        }
    }
}

/** Three brokers on request, and the same classes a Testcontainers run would use. */
@WithKafka(brokers = 3)
class ThreeBrokerKafkaTest {
    @Test
    void threeBrokersFormOneCluster(KafkaCluster kafka) throws Exception {
        assertEquals(3, kafka.brokerCount());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            assertEquals(3, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size());
            admin.createTopics(List.of(new NewTopic("spread", 6, (short) 3))).all().get(60, TimeUnit.SECONDS);
            // Brokers learn of a new topic a moment after the controller commits it.
            ChildProcess.await("the topic on every broker", java.time.Duration.ofSeconds(30), java.time.Duration.ofMillis(100),
                    () -> admin.describeTopics(List.of("spread")).allTopicNames().get().get("spread").partitions().stream()
                            .allMatch(p -> p.replicas().size() == 3 && p.leader() != null));
        }
    }
}
