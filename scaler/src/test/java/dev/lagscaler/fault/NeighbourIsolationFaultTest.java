package dev.lagscaler.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.lagscaler.controller.Operator;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.WithKafka;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault cases: one object's Kafka trouble stays that object's. A group denied by the broker's ACLs beside a healthy
 * neighbour on the same cluster (and so the same shared client); and a login whose token endpoint answers after
 * 20 s, while other objects are reconciled. The broker runs {@code StandardAuthorizer}; the operator logs in as a
 * SCRAM user through a TriggerAuthentication, as a user's would.
 */
@Tag("fault")
@WithControlPlane
@WithKafka(scramUsers = "scaler=scaler-secret", aclAuthorizer = true)
class NeighbourIsolationFaultTest {
    private final EmbeddedKafka kafka;

    /** The shared ACL broker (one per test JVM); the DENY is idempotent, so each class may add it. */
    NeighbourIsolationFaultTest(EmbeddedKafka kafka) {
        this.kafka = kafka;
        kafka.denyGroup("scaler", "denied-app");
    }

    /** A namespace with consumer-deployment at zero, a Secret and a TriggerAuthentication {@code kafka-auth}. */
    private static void namespace(LocalControlPlane plane, String ns, Map<String, String> credentials) throws Exception {
        plane.kubectl("create", "namespace", ns);
        plane.kubectl("-n", ns, "create", "deployment", "consumer-deployment", "--image=consumer:1.0", "--replicas=0");
        StringBuilder secret = new StringBuilder("apiVersion: v1\nkind: Secret\nmetadata: {name: kafka-credentials}\nstringData:\n");
        StringBuilder refs = new StringBuilder();
        credentials.forEach((k, v) -> {
            secret.append("  ").append(k).append(": \"").append(v).append("\"\n");
            refs.append("  - {parameter: ").append(k).append(", name: kafka-credentials, key: ").append(k).append("}\n");
        });
        FaultSupport.apply(plane, ns, secret + "---\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\n"
                + "metadata: {name: kafka-auth}\nspec:\n  secretTargetRef:\n" + refs);
    }

    private String scaledObject(String group, String topic) {
        return FaultSupport.scaledObject(kafka.saslBootstrapServers(), group, topic, "")
                + "    authenticationRef: {name: kafka-auth}\n";
    }

    private static String readyMessage(LocalControlPlane plane, String ns) throws Exception {
        return plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject",
                "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].message}");
    }

    private static final Map<String, String> SCRAM = Map.of("sasl", "scram_sha512", "username", "scaler",
            "password", "scaler-secret");

    @Test
    void aDeniedGroupIsReadyFalseNamingTheAclAndItsNeighbourNeverSeesAnError(LocalControlPlane plane) throws Exception {
        String topic = "isolation-events";
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 2);
        KafkaTestData.commit(kafka.bootstrapServers(), "neighbour-app",
                Map.of(new TopicPartition(topic, 0), 0L, new TopicPartition(topic, 1), 0L));
        namespace(plane, "fault-denied", SCRAM);
        namespace(plane, "fault-neighbour", SCRAM);
        Map<String, Object> figures = new LinkedHashMap<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = FaultSupport.operator(plane, engine, "fault-isolation")) {
            operator.start();
            FaultSupport.apply(plane, "fault-neighbour", scaledObject("neighbour-app", topic));
            ChildProcess.await("the neighbour Ready", Duration.ofSeconds(60), Duration.ofMillis(100),
                    () -> FaultSupport.condition(plane, "fault-neighbour", "Ready").equals("True"));
            FaultSupport.apply(plane, "fault-denied", scaledObject("denied-app", topic));
            ChildProcess.await("the denied object Ready=False naming the ACL", Duration.ofSeconds(60), Duration.ofMillis(100),
                    () -> readyMessage(plane, "fault-denied").contains("ACL"));
            String denied = readyMessage(plane, "fault-denied");
            assertTrue(denied.contains("denied-app"), denied);
            assertFalse(denied.contains("could not be created"), denied);
            assertEquals("False", FaultSupport.condition(plane, "fault-denied", "Ready"));

            // The denied trigger is polled alone every second (its target is at zero): for 15 s, every sample of the
            // neighbour's Ready stays True. A shared client closed by the denial would fail it for its backoff.
            long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            int samples = 0;
            int notReady = 0;
            while (System.nanoTime() < until) {
                samples++;
                if (!FaultSupport.condition(plane, "fault-neighbour", "Ready").equals("True")) {
                    notReady++;
                }
                Thread.sleep(200);
            }
            assertEquals(0, notReady, notReady + " of " + samples + " samples of the neighbour not Ready: "
                    + readyMessage(plane, "fault-neighbour"));
            // And its lag still flows: records wake it from zero.
            long produced = System.nanoTime();
            KafkaTestData.produce(kafka.bootstrapServers(), topic, 1, 40);
            ChildProcess.await("the neighbour activated", Duration.ofSeconds(30), Duration.ofMillis(50),
                    () -> FaultSupport.replicas(plane, "fault-neighbour") >= 1);
            figures.put("neighbour_samples", samples);
            figures.put("neighbour_not_ready_samples", notReady);
            figures.put("neighbour_records_to_replicas_ms", (System.nanoTime() - produced) / 1_000_000);
            figures.put("denied_ready", FaultSupport.condition(plane, "fault-denied", "Ready"));
            figures.put("denied_names_acl", denied.contains("ACL") && denied.contains("denied-app"));
        }
        FaultFigures.record("denied-group-beside-healthy", figures);
    }

    @Test
    void aLoginThatTakes20SecondsStallsNoOtherReconcile(LocalControlPlane plane) throws Exception {
        CountDownLatch loginAsked = new CountDownLatch(1);
        HttpServer tokenEndpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tokenEndpoint.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "slow-token-endpoint");
            t.setDaemon(true);
            return t;
        }));
        tokenEndpoint.createContext("/token", exchange -> {
            loginAsked.countDown();
            try {
                Thread.sleep(20_000); // the slow endpoint itself: it answers after 20 s, and then refuses
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        tokenEndpoint.start();
        String topic = "slow-login-events";
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 1);
        namespace(plane, "fault-slow-login", Map.of("sasl", "oauthbearer", "username", "client", "password", "client-secret",
                "oauthTokenEndpointUri", "http://127.0.0.1:" + tokenEndpoint.getAddress().getPort() + "/token"));
        namespace(plane, "fault-after-login", SCRAM);
        Map<String, Object> figures = new LinkedHashMap<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = FaultSupport.operator(plane, engine, "fault-slow-login")) {
            operator.start();
            FaultSupport.apply(plane, "fault-slow-login", scaledObject("slow-app", topic));
            assertTrue(loginAsked.await(60, TimeUnit.SECONDS), "the login reached the token endpoint");
            // While that login waits: the slow object is deleted (its trigger deregistered) and another applied.
            long started = System.nanoTime();
            plane.kubectl("-n", "fault-slow-login", "delete", "scaledobject", "kafka-scaledobject", "--wait=false");
            FaultSupport.apply(plane, "fault-after-login", scaledObject("after-app", topic));
            // Both are watched together, each timed when first seen done.
            long[] done = {-1, -1};
            ChildProcess.await("the other object Ready and the slow one deleted", Duration.ofSeconds(60),
                    Duration.ofMillis(50), () -> {
                        long at = (System.nanoTime() - started) / 1_000_000;
                        if (done[0] < 0 && FaultSupport.condition(plane, "fault-after-login", "Ready").equals("True")) {
                            done[0] = at;
                        }
                        if (done[1] < 0 && plane.kubectl("-n", "fault-slow-login", "get", "scaledobject",
                                "kafka-scaledobject", "--ignore-not-found", "-o", "name").isBlank()) {
                            done[1] = at;
                        }
                        return done[0] >= 0 && done[1] >= 0;
                    });
            long ready = done[0];
            long deleted = done[1];
            assertTrue(loginAsked.getCount() == 0 && ready < 10_000 && deleted < 10_000, "the other object Ready in "
                    + ready + " ms and the deletion done in " + deleted + " ms, not after the 20 s login");
            figures.put("token_endpoint_answers_after_ms", 20_000);
            figures.put("other_object_ready_ms", ready);
            figures.put("slow_object_deleted_ms", deleted);
        } finally {
            tokenEndpoint.stop(0);
        }
        FaultFigures.record("slow-login-beside-reconciles", figures);
    }
}
