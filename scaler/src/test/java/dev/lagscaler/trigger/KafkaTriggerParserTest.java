package dev.lagscaler.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class KafkaTriggerParserTest {
    private static final Map<String, String> SEED = Map.of(
            "bootstrapServers", "kafka.default.svc:9092",
            "consumerGroup", "my-group",
            "topic", "events",
            "lagThreshold", "50");

    private static Map<String, String> seedWith(String... keyValues) {
        Map<String, String> m = new HashMap<>(SEED);
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] == null) {
                m.remove(keyValues[i]);
            } else {
                m.put(keyValues[i], keyValues[i + 1]);
            }
        }
        return m;
    }

    private static KafkaTriggerSettings parse(Map<String, String> metadata) throws TriggerParseException {
        return KafkaTriggerParser.parse(TriggerInput.ofMetadata(metadata));
    }

    @Test
    void seedTriggerGetsKedaDefaults() throws Exception {
        KafkaTriggerSettings s = parse(SEED);
        assertEquals(List.of("kafka.default.svc:9092"), s.bootstrapServers());
        assertEquals("my-group", s.consumerGroup());
        assertEquals("events", s.topic());
        assertEquals(50, s.lagThreshold());
        assertEquals(0, s.activationLagThreshold());
        assertEquals(OffsetResetPolicy.LATEST, s.offsetResetPolicy());
        assertFalse(s.allowIdleConsumers() || s.excludePersistentLag() || s.scaleToZeroOnInvalidOffset()
                || s.limitToPartitionsWithLag() || s.ensureEvenDistributionOfPartitions());
        assertEquals("1.0.0", s.version());
        assertEquals(MetricTargetType.AVERAGE_VALUE, s.metricType());
        assertEquals(SaslMechanism.NONE, s.auth().sasl());
        assertFalse(s.auth().tls());
        assertEquals("s0-kafka-events", s.metricName(0));
    }

    @Test
    void lagThresholdDefaultsToTen() throws Exception {
        assertEquals(10, parse(seedWith("lagThreshold", null)).lagThreshold());
    }

    @Test
    void metricNamesFollowKeda() throws Exception {
        assertEquals("s2-kafka-my-group-topics", parse(seedWith("topic", null)).metricName(2));
        assertEquals("s0-kafka-orders-v1-eu", parse(seedWith("topic", "orders.v1_eu")).metricName(0));
    }

    @Test
    void bootstrapServersAreAList() throws Exception {
        assertEquals(List.of("a:9092", "b:9092"), parse(seedWith("bootstrapServers", "a:9092, b:9092")).bootstrapServers());
    }

    @Test
    void fromEnvParametersReadTheTargetContainersEnvironment() throws Exception {
        Map<String, String> metadata = seedWith("bootstrapServers", null, "bootstrapServersFromEnv", "BROKERS",
                "consumerGroup", null, "consumerGroupFromEnv", "GROUP");
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(metadata, Map.of(),
                Map.of("BROKERS", "k1:9092", "GROUP", "env-group"), null));
        assertEquals(List.of("k1:9092"), s.bootstrapServers());
        assertEquals("env-group", s.consumerGroup());
        TriggerParseException e = assertThrows(TriggerParseException.class, () -> parse(metadata));
        assertTrue(e.getMessage().contains("BROKERS"), e.getMessage());
    }

    @Test
    void partitionLimitationTakesIdsAndRanges() throws Exception {
        assertEquals(Set.of(1, 2, 10, 11, 12), parse(seedWith("partitionLimitation", "1,2,10-12")).partitionLimitation());
        // Ignored without a topic, as in KEDA.
        assertEquals(Set.of(), parse(seedWith("topic", null, "partitionLimitation", "1,2")).partitionLimitation());
    }

    @Test
    void booleansAcceptGoParseBoolForms() throws Exception {
        for (String yes : List.of("true", "True", "TRUE", "t", "T", "1")) {
            assertTrue(parse(seedWith("allowIdleConsumers", yes)).allowIdleConsumers(), yes);
        }
        for (String no : List.of("false", "False", "FALSE", "f", "F", "0")) {
            assertFalse(parse(seedWith("allowIdleConsumers", no)).allowIdleConsumers(), no);
        }
    }

    @Test
    void authParamsWinOverTriggerMetadata() throws Exception {
        Map<String, String> metadata = seedWith("sasl", "plaintext", "username", "meta-user", "password", "meta-pass");
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(metadata,
                Map.of("sasl", "scram_sha512", "username", "auth-user", "password", "auth-pass"), Map.of(), null));
        assertEquals(SaslMechanism.SCRAM_SHA512, s.auth().sasl());
        assertEquals("auth-user", s.auth().username());
        assertEquals("auth-pass", s.auth().password());
        assertFalse(s.auth().toString().contains("auth-pass"), "secrets never printed");
        assertFalse(s.toString().contains("auth-pass"), "secrets never printed");
    }

    @Test
    void tlsReadsPemMaterial() throws Exception {
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(SEED,
                Map.of("tls", "enable", "ca", "CA", "cert", "CERT", "key", "KEY", "keyPassword", "pw", "unsafeSsl", "true"),
                Map.of(), null));
        assertTrue(s.auth().tls());
        assertEquals("CERT", s.auth().cert());
        assertTrue(s.auth().unsafeSsl());
    }

    @Test
    void oauthbearerReadsScopesAndExtensions() throws Exception {
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(SEED, Map.of("sasl", "oauthbearer",
                "username", "client", "password", "secret", "oauthTokenEndpointUri", "https://idp/token",
                "scopes", "a, b", "oauthExtensions", "logicalCluster=lkc-1,identityPoolId=pool-2"), Map.of(), null));
        assertEquals(List.of("a", "b"), s.auth().scopes());
        assertEquals(Map.of("logicalCluster", "lkc-1", "identityPoolId", "pool-2"), s.auth().oauthExtensions());
    }

    @Test
    void metricTypeValueIsKept() throws Exception {
        KafkaTriggerSettings s = KafkaTriggerParser.parse(new TriggerInput(SEED, Map.of(), Map.of(), "Value"));
        assertEquals(MetricTargetType.VALUE, s.metricType());
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(seedWith("bootstrapServers", null), "bootstrapServers"),
                Arguments.of(seedWith("bootstrapServers", " , "), "bootstrapServers"),
                Arguments.of(seedWith("consumerGroup", null), "consumerGroup"),
                Arguments.of(seedWith("lagThreshold", "abc"), "lagThreshold"),
                Arguments.of(seedWith("lagThreshold", "0"), "lagThreshold"),
                Arguments.of(seedWith("lagThreshold", "-5"), "lagThreshold"),
                Arguments.of(seedWith("lagThreshold", "10.5"), "lagThreshold"),
                Arguments.of(seedWith("activationLagThreshold", "-1"), "activationLagThreshold"),
                Arguments.of(seedWith("activationLagThreshold", "x"), "activationLagThreshold"),
                Arguments.of(seedWith("offsetResetPolicy", "middle"), "offsetResetPolicy"),
                Arguments.of(seedWith("allowIdleConsumers", "yes"), "allowIdleConsumers"),
                Arguments.of(seedWith("excludePersistentLag", "maybe"), "excludePersistentLag"),
                Arguments.of(seedWith("scaleToZeroOnInvalidOffset", "2"), "scaleToZeroOnInvalidOffset"),
                Arguments.of(seedWith("limitToPartitionsWithLag", "on"), "limitToPartitionsWithLag"),
                Arguments.of(seedWith("ensureEvenDistributionOfPartitions", "nope"), "ensureEvenDistributionOfPartitions"),
                Arguments.of(seedWith("allowIdleConsumers", "true", "limitToPartitionsWithLag", "true"), "allowIdleConsumers"),
                Arguments.of(seedWith("topic", null, "limitToPartitionsWithLag", "true"), "limitToPartitionsWithLag"),
                Arguments.of(seedWith("topic", null, "ensureEvenDistributionOfPartitions", "true"), "ensureEvenDistributionOfPartitions"),
                Arguments.of(seedWith("limitToPartitionsWithLag", "true", "ensureEvenDistributionOfPartitions", "true"),
                        "ensureEvenDistributionOfPartitions"),
                Arguments.of(seedWith("partitionLimitation", "1,x"), "partitionLimitation"),
                Arguments.of(seedWith("partitionLimitation", "5-2"), "partitionLimitation"),
                Arguments.of(seedWith("version", "latest"), "version"),
                Arguments.of(seedWith("sasl", "kerberos"), "sasl"),
                Arguments.of(seedWith("sasl", "gssapi"), "gssapi"),
                Arguments.of(seedWith("sasl", "plaintext"), "username"),
                Arguments.of(seedWith("sasl", "scram_sha256", "username", "u"), "password"),
                Arguments.of(seedWith("sasl", "oauthbearer", "username", "u", "password", "p"), "oauthTokenEndpointUri"),
                Arguments.of(seedWith("tls", "on"), "tls"),
                Arguments.of(seedWith("tls", "enable", "cert", "C"), "key"),
                Arguments.of(seedWith("tls", "enable", "key", "K"), "cert"),
                Arguments.of(seedWith("tls", "enable", "unsafeSsl", "sure"), "unsafeSsl"),
                Arguments.of(seedWith("sasl", "plaintext", "username", "u", "password", "p", "oauthExtensions", "novalue"),
                        "oauthExtensions"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void invalidMetadataIsRejectedNamingTheParameter(Map<String, String> metadata, String named) {
        TriggerParseException e = assertThrows(TriggerParseException.class, () -> parse(metadata));
        assertTrue(e.getMessage().contains(named), () -> "message \"" + e.getMessage() + "\" should name " + named);
    }

    @Test
    void metricTypeUtilizationIsRejectedForKafka() {
        assertThrows(TriggerParseException.class,
                () -> KafkaTriggerParser.parse(new TriggerInput(SEED, Map.of(), Map.of(), "Utilization")));
        assertThrows(TriggerParseException.class,
                () -> KafkaTriggerParser.parse(new TriggerInput(SEED, Map.of(), Map.of(), "Average")));
    }

    @Test
    void equalConnectionsShareAClient() throws Exception {
        ClusterConnection a = parse(seedWith("bootstrapServers", "b:1,a:1")).connection();
        ClusterConnection b = parse(seedWith("bootstrapServers", "a:1,b:1", "topic", "other")).connection();
        assertEquals(a, b);
    }

    @Test
    void partitionLimitationIsBounded() {
        // Before: this range looped past Integer.MAX_VALUE and filled the heap (evaluate died with OutOfMemoryError).
        TriggerParseException all = assertThrows(TriggerParseException.class,
                () -> parse(seedWith("partitionLimitation", "0-2147483647")));
        assertTrue(all.getMessage().contains("partitionLimitation") && all.getMessage().contains("100000"), all.getMessage());
        assertThrows(TriggerParseException.class, () -> parse(seedWith("partitionLimitation", "2147483640-2147483647,0-99999")));
        assertThrows(TriggerParseException.class, () -> parse(seedWith("partitionLimitation", "-1")));
        assertEquals(8, assertDoesNotThrowParse(seedWith("partitionLimitation", "2147483640-2147483647")).partitionLimitation().size(),
                "a short range at the top of the int range ends");
    }

    private static KafkaTriggerSettings assertDoesNotThrowParse(Map<String, String> metadata) {
        return org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> parse(metadata));
    }

    /** A Secret mapped to the wrong parameter must not reach a status condition through an error message. */
    @ParameterizedTest
    @ValueSource(strings = {"tls", "sasl", "unsafeSsl", "oauthExtensions"})
    void errorsNeverQuoteAValueFromTheTriggerAuthentication(String parameter) {
        String secret = "s3cr3t-Pa55word";
        Map<String, String> auth = new HashMap<>(Map.of(parameter, secret));
        if (!parameter.equals("tls")) {
            auth.put("tls", "enable");
        }
        if (parameter.equals("oauthExtensions")) {
            auth.putAll(Map.of("sasl", "oauthbearer", "oauthTokenEndpointUri", "https://idp", "username", "u", "password", "p"));
        }
        TriggerParseException e = assertThrows(TriggerParseException.class,
                () -> KafkaTriggerParser.parse(new TriggerInput(SEED, auth, Map.of(), null)));
        assertTrue(e.getMessage().startsWith(parameter + ":"), e.getMessage());
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertTrue(e.getMessage().contains("TriggerAuthentication"), e.getMessage());
        // The same mistake written in the ScaledObject's own metadata is quoted back: the user wrote it there.
        TriggerParseException inMetadata = assertThrows(TriggerParseException.class,
                () -> KafkaTriggerParser.parse(new TriggerInput(parameter.equals("tls") ? seedWith(parameter, "oops")
                        : seedWith(parameter, "oops", "tls", "enable"), Map.of(), Map.of(), null)));
        assertTrue(parameter.equals("oauthExtensions") || inMetadata.getMessage().contains("\"oops\""), inMetadata.getMessage());
    }
}
