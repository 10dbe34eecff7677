package dev.lagscaler.controller;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lagscaler.lag.kafka.LagEngine;
import dev.lagscaler.testing.ChildProcess;
import dev.lagscaler.testing.EmbeddedKafka;
import dev.lagscaler.testing.KafkaTestData;
import dev.lagscaler.testing.KerberosKdc;
import dev.lagscaler.testing.LocalControlPlane;
import dev.lagscaler.testing.WithControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A KEDA ScaledObject with {@code sasl: gssapi}, applied unchanged, on the real control plane against a real KDC and
 * a Kerberos-only broker listener. Each value comes through a different KEDA source: the keytab (binary) from a
 * Secret ({@code secretTargetRef}), the krb5.conf and realm from a ConfigMap ({@code configMapTargetRef}), the
 * username from the target container's environment ({@code env}), and the bootstrap servers from a ConfigMap the
 * container loads with a prefix ({@code envFrom} + {@code bootstrapServersFromEnv}).
 */
@Tag("kafka")
@WithControlPlane
class KerberosTriggerAuthenticationTest {

    @Test
    void everyKedaAuthSourceReachesTheBroker(LocalControlPlane plane) throws Exception {
        try (KerberosKdc kdc = KerberosKdc.start()) {
            Path brokerKeytab = kdc.keytab("kafka/localhost");
            Path clientKeytab = kdc.keytab("scaler-client");
            try (EmbeddedKafka kafka = EmbeddedKafka.start(EmbeddedKafka.Options.singleNode().withKerberos(
                    new EmbeddedKafka.Kerberos(kdc.krb5ConfFile(), brokerKeytab, KerberosKdc.qualified("kafka/localhost"))))) {
                run(plane, kdc, kafka, clientKeytab);
            }
        }
    }

    private void run(LocalControlPlane plane, KerberosKdc kdc, EmbeddedKafka kafka, Path clientKeytab) throws Exception {
        OperatorTestSupport k = new OperatorTestSupport(plane);
        String ns = "kerberos";
        k.setUp(ns, kafka.bootstrapServers(), "kerberized-events", 0);
        Path dir = Files.createTempDirectory(plane.directory(), "krb-");
        Path krb5 = Files.writeString(dir.resolve("krb5.conf"), kdc.krb5Conf());
        plane.kubectl("-n", ns, "create", "secret", "generic", "kafka-keytab", "--from-file=keytab=" + clientKeytab);
        plane.kubectl("-n", ns, "create", "configmap", "kerberos", "--from-file=krb5.conf=" + krb5,
                "--from-literal=realm=" + KerberosKdc.REALM, "--from-literal=sasl=gssapi");
        plane.kubectl("-n", ns, "create", "configmap", "kafka-endpoints",
                "--from-literal=BOOTSTRAP=" + kafka.gssapiBootstrapServers());
        k.apply(ns, """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: consumer-deployment}
                spec:
                  replicas: 0
                  selector: {matchLabels: {app: consumer-deployment}}
                  template:
                    metadata: {labels: {app: consumer-deployment}}
                    spec:
                      containers:
                      - name: consumer
                        image: consumer:1.0
                        envFrom:
                        - prefix: KAFKA_
                          configMapRef: {name: kafka-endpoints}
                        - secretRef: {name: not-there, optional: true}
                        env:
                        - {name: PRINCIPAL_BASE, value: scaler}
                        - {name: KERBEROS_USER, value: "$(PRINCIPAL_BASE)-client"}
                """);
        k.apply(ns, """
                apiVersion: keda.sh/v1alpha1
                kind: TriggerAuthentication
                metadata: {name: kafka-kerberos}
                spec:
                  env:
                  - {parameter: username, name: KERBEROS_USER}
                  configMapTargetRef:
                  - {parameter: sasl, name: kerberos, key: sasl}
                  - {parameter: realm, name: kerberos, key: realm}
                  - {parameter: kerberosConfig, name: kerberos, key: krb5.conf}
                  secretTargetRef:
                  - {parameter: keytab, name: kafka-keytab, key: keytab}
                """);
        k.apply(ns, """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: kafka-scaledobject}
                spec:
                  scaleTargetRef: {name: consumer-deployment}
                  pollingInterval: 5
                  triggers:
                  - type: kafka
                    metadata:
                      bootstrapServersFromEnv: KAFKA_BOOTSTRAP
                      consumerGroup: my-group
                      topic: kerberized-events
                      lagThreshold: "5"
                    authenticationRef: {name: kafka-kerberos}
                """);
        var client = plane.apiClient();
        client.setReadTimeout(0);
        try (LagEngine engine = new LagEngine(LagEngine.Options.defaults());
             Operator operator = new Operator(client, engine, OperatorConfig.defaults("kerberos-operator")
                     .withNamespace("lagscaler-kerberos").withFastActivationInterval(Duration.ofMillis(500)))) {
            operator.start();
            ChildProcess.await("measured through Kerberos: Ready, still at zero", Duration.ofSeconds(60),
                    Duration.ofMillis(200), () -> k.condition(ns, "Ready", "status").equals("True") && k.replicas(ns) == 0);
            // No wake-up consumer serves a GSSAPI cluster: the status says the target is polled, and why.
            String activation = k.get(ns, "scaledobject", "kafka-scaledobject").path("status").path("activation").asText();
            assertTrue(activation.startsWith("polled every 500 ms: trigger 0: no wake-up consumer for ")
                    && activation.endsWith("(GSSAPI clusters are polled only)"), activation);
            KafkaTestData.produce(kafka.bootstrapServers(), "kerberized-events", 1, 4);
            ChildProcess.await("activated through Kerberos", Duration.ofSeconds(60), Duration.ofMillis(200),
                    () -> k.replicas(ns) == 1);

            // A keytab that is not the principal's: the login fails, the status says so, nothing scales to zero.
            Path otherKeytab = kdc.keytab("someone-else");
            plane.kubectl("-n", ns, "delete", "secret", "kafka-keytab");
            plane.kubectl("-n", ns, "create", "secret", "generic", "kafka-keytab", "--from-file=keytab=" + otherKeytab);
            ChildProcess.await("the failed login reported", Duration.ofSeconds(60), Duration.ofMillis(300),
                    () -> k.condition(ns, "Ready", "status").equals("False")
                            && k.condition(ns, "Ready", "message").contains("login failed"));
            assertFalse(k.replicas(ns) == 0, "an error never scales to zero");
            String everything = k.get(ns, "scaledobject", "kafka-scaledobject").toString()
                    + plane.kubectl("get", "events", "-n", ns, "-o", "json");
            for (String secret : List.of(Base64.getEncoder().encodeToString(Files.readAllBytes(clientKeytab)).substring(0, 24))) {
                assertFalse(everything.contains(secret), "keytab bytes in a status or an Event");
            }
        }
    }
}
