package dev.lagscaler.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.controller.Operator;
import dev.lagscaler.controller.OperatorConfig;
import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.metrics.MetricsSink;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.FaultFigures;
import dev.lagscaler.testing.KafkaCluster;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import dev.lagscaler.testing.WithKafka;
import io.kubernetes.client.openapi.ApiClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fault case: the apiserver answers the operator's Secret reads with 503 for a while (as it does while etcd elects a
 * leader). The real apiserver serves everything else; the 503s are put on the operator's own HTTP client, in front
 * of it, while a flag is set. A transient read keeps the trigger registered (its failure count, lag history and
 * wake-up watch) and the object's status as it was, and is retried with backoff. The target's container also reads an
 * absent Secret through {@code secretKeyRef.optional: true}, which the kubelet allows and so must we.
 */
@Tag("fault")
@WithKafka
@WithControlPlane
class SecretReadFaultTest {
    @Test
    void aSecretReadThatFailsForAWhileKeepsTheTriggerAndItsStatus(KafkaCluster kafka, LocalControlPlane plane)
            throws Exception {
        String ns = "fault-secret-read";
        String topic = "secret-read-events";
        KafkaTestData.createTopic(kafka.bootstrapServers(), topic, 1);
        KafkaTestData.commit(kafka.bootstrapServers(), "secret-read-app", Map.of(new TopicPartition(topic, 0), 0L));
        plane.kubectl("create", "namespace", ns);
        FaultSupport.apply(plane, ns, """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: consumer-deployment}
                spec:
                  replicas: 0
                  selector: {matchLabels: {app: consumer}}
                  template:
                    metadata: {labels: {app: consumer}}
                    spec:
                      containers:
                      - name: consumer
                        image: consumer:1.0
                        env:
                        - {name: SASL_MODE, value: none}
                        - name: OPTIONAL_TOKEN
                          valueFrom: {secretKeyRef: {name: absent-secret, key: token, optional: true}}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: kafka-credentials}
                stringData: {tls: disable}
                ---
                apiVersion: keda.sh/v1alpha1
                kind: TriggerAuthentication
                metadata: {name: kafka-auth}
                spec:
                  env:
                  - {parameter: sasl, name: SASL_MODE}
                  secretTargetRef:
                  - {parameter: tls, name: kafka-credentials, key: tls}
                """);

        AtomicBoolean failSecrets = new AtomicBoolean();
        AtomicInteger refused = new AtomicInteger();
        ApiClient requests = plane.apiClient();
        requests.setHttpClient(requests.getHttpClient().newBuilder().addInterceptor(chain -> {
            var request = chain.request();
            if (failSecrets.get() && request.method().equals("GET") && request.url().encodedPath().contains("/secrets/")) {
                refused.incrementAndGet();
                return dev.lagscaler.testing.ApiStatus.failure(request, 503, "Service Unavailable",
                        "etcdserver: leader changed");
            }
            return chain.proceed(request);
        }).build());
        ApiClient watches = plane.apiClient();
        watches.setReadTimeout(0);
        Map<String, Object> figures = new LinkedHashMap<>();
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(watches, requests, engine,
                     OperatorConfig.defaults("fault-secret-read").withNamespace("lagscaler-fault-secret-read"),
                     MetricsSink.NONE)) {
            operator.start();
            FaultSupport.apply(plane, ns, FaultSupport.scaledObject(kafka.bootstrapServers(), "secret-read-app", topic, "")
                    + "    authenticationRef: {name: kafka-auth}\n");
            ChildProcess.await("Ready, with an optional Secret absent", Duration.ofSeconds(60), Duration.ofMillis(100),
                    () -> FaultSupport.condition(plane, ns, "Ready").equals("True"));
            dev.lagscaler.lag.TriggerKey trigger = new dev.lagscaler.lag.TriggerKey(ns, "kafka-scaledobject", 0);
            assertTrue(engine.isRegistered(trigger));

            failSecrets.set(true);
            long failing = System.nanoTime();
            plane.kubectl("-n", ns, "annotate", "scaledobject", "kafka-scaledobject", "fault/poke=1");
            ChildProcess.await("three refused Secret reads (each pass retried)", Duration.ofSeconds(60),
                    Duration.ofMillis(20), () -> refused.get() >= 3);
            long threeRefusals = (System.nanoTime() - failing) / 1_000_000;
            String message = plane.kubectl("-n", ns, "get", "scaledobject", "kafka-scaledobject",
                    "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].message}");
            String readyWhileRefused = FaultSupport.condition(plane, ns, "Ready");
            assertEquals("True", readyWhileRefused, message);
            assertFalse(message.contains("could not be read"), message);
            assertTrue(engine.isRegistered(trigger), "the trigger stays registered with the lag engine");

            failSecrets.set(false);
            long produced = System.nanoTime();
            KafkaTestData.produce(kafka.bootstrapServers(), topic, 0, 30);
            ChildProcess.await("activated once Secrets are read again", Duration.ofSeconds(60), Duration.ofMillis(50),
                    () -> FaultSupport.replicas(plane, ns) >= 1);
            figures.put("refused_secret_reads", refused.get());
            figures.put("first_three_refusals_ms", threeRefusals);
            figures.put("ready_while_refused", readyWhileRefused);
            figures.put("records_to_replicas_after_ms", (System.nanoTime() - produced) / 1_000_000);
        }
        FaultFigures.record("secret-read-503", figures);
    }
}
