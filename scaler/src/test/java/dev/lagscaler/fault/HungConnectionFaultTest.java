package dev.lagscaler.fault;

import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault case: the operator's apiserver connections go dead mid-flight (they stop carrying bytes; new ones work).
 * Its requests have a read timeout, separate from the watches' (none): a call on a dead connection fails, the
 * reconcile requeues and a new connection carries on. Before, one client with no read timeout served every call,
 * and a call on a dead connection pinned its worker for good.
 */
@Tag("fault")
@WithKafka
@WithControlPlane
class HungConnectionFaultTest {
    @Test
    void aDeadConnectionDoesNotPinTheOperator(EmbeddedKafka kafka, LocalControlPlane plane) throws Exception {
        String ns = "fault-hung";
        String topic = "fault-hung-events";
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=1");
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 1);
        KafkaTestData.commit(kafka.bootstrapServers(), "hung-group", Map.of(new TopicPartition(topic, 0), 0L));
        int apiserverPort = URI.create(plane.url()).getPort();
        try (FreezableProxy proxy = new FreezableProxy(apiserverPort);
             LagEngine engine = new LagEngine(LagEngine.Options.defaults())) {
            var watches = plane.apiClient();
            watches.setReadTimeout(0);
            var requests = plane.apiClient();
            requests.setBasePath("https://127.0.0.1:" + proxy.port());
            requests.setReadTimeout(3_000); // as --request-timeout 3s
            try (Operator operator = new Operator(watches, requests, engine, OperatorConfig.defaults("fault-hung")
                    .withNamespace("lagscaler-fault-hung").withLeaseDuration(Duration.ofSeconds(30)), MetricsSink.NONE)) {
                operator.start();
                ChildProcess.await("leadership", Duration.ofSeconds(30), Duration.ofMillis(100), operator::isLeader);
                proxy.freezeOpenConnections();
                long frozen = System.nanoTime();
                FaultSupport.apply(plane, ns, FaultSupport.scaledObject(kafka.bootstrapServers(), "hung-group", topic, ""));
                KafkaTestData.produce(kafka.bootstrapServers(), topic, 0, 5);
                // Its first writes go to a dead connection; within the timeout and a requeue they go through a new one.
                ChildProcess.await("the object reconciled through a new connection", Duration.ofSeconds(45),
                        Duration.ofMillis(200), () -> FaultSupport.condition(plane, ns, "Ready").equals("True")
                                && plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject", "-o",
                                "jsonpath={.metadata.finalizers}").contains("finalizer.keda.sh"));
                FaultFigures.record("dead-apiserver-connection", Map.of("request_timeout_ms", 3_000,
                        "reconciled_ms_after_freeze", (System.nanoTime() - frozen) / 1_000_000,
                        "operator_leading_after", operator.isLeader()));
            }
        }
    }
}
