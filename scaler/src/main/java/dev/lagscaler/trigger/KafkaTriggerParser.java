package dev.lagscaler.trigger;

import static dev.lagscaler.trigger.ParameterReader.Sources.AUTH_THEN_METADATA;
import static dev.lagscaler.trigger.ParameterReader.Sources.METADATA;
import static dev.lagscaler.trigger.ParameterReader.Sources.METADATA_OR_ENV;

import dev.lagscaler.Defaults;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses a {@code kafka} trigger exactly as KEDA's kafka scaler does: the same parameters, sources, defaults and
 * validation errors (see shared/docs/keda-semantics.md §1).
 */
public final class KafkaTriggerParser {
    private static final Pattern KAFKA_VERSION = Pattern.compile("\\d+\\.\\d+\\.\\d+(\\.\\d+)?");
    private static final List<String> SASL_UNSUPPORTED = List.of("gssapi", "aws_msk_iam");

    private KafkaTriggerParser() {
    }

    public static KafkaTriggerSettings parse(TriggerInput input) throws TriggerParseException {
        ParameterReader p = new ParameterReader(input);

        List<String> bootstrapServers = new ArrayList<>();
        for (String server : p.required("bootstrapServers", METADATA_OR_ENV).split(",")) {
            if (!server.isBlank()) {
                bootstrapServers.add(server.trim());
            }
        }
        if (bootstrapServers.isEmpty()) {
            throw new TriggerParseException("no bootstrapServers given: bootstrapServers is required");
        }
        String consumerGroup = p.required("consumerGroup", METADATA_OR_ENV);
        String topic = p.orDefault("topic", METADATA_OR_ENV, "");
        Set<Integer> partitionLimitation = p.intRanges("partitionLimitation");

        long lagThreshold = p.longValue("lagThreshold", Defaults.LAG_THRESHOLD);
        if (lagThreshold <= 0) {
            throw new TriggerParseException("lagThreshold must be a positive number, got " + lagThreshold);
        }
        long activationLagThreshold = p.longValue("activationLagThreshold", Defaults.ACTIVATION_LAG_THRESHOLD);
        if (activationLagThreshold < 0) {
            throw new TriggerParseException("activationLagThreshold must be zero or a positive number, got "
                    + activationLagThreshold);
        }
        OffsetResetPolicy offsetResetPolicy = OffsetResetPolicy.valueOf(
                p.oneOf("offsetResetPolicy", METADATA, "latest", List.of("latest", "earliest")).toUpperCase(java.util.Locale.ROOT));

        boolean allowIdleConsumers = p.bool("allowIdleConsumers", METADATA);
        boolean excludePersistentLag = p.bool("excludePersistentLag", METADATA);
        boolean scaleToZeroOnInvalidOffset = p.bool("scaleToZeroOnInvalidOffset", METADATA);
        boolean limitToPartitionsWithLag = p.bool("limitToPartitionsWithLag", METADATA);
        boolean ensureEvenDistribution = p.bool("ensureEvenDistributionOfPartitions", METADATA);

        if (allowIdleConsumers && limitToPartitionsWithLag) {
            throw new TriggerParseException("allowIdleConsumers and limitToPartitionsWithLag cannot be set at the same time");
        }
        if (topic.isEmpty() && limitToPartitionsWithLag) {
            throw new TriggerParseException("topic must be specified when using limitToPartitionsWithLag");
        }
        if (topic.isEmpty() && ensureEvenDistribution) {
            throw new TriggerParseException("topic must be specified when using ensureEvenDistributionOfPartitions");
        }
        if (limitToPartitionsWithLag && ensureEvenDistribution) {
            throw new TriggerParseException(
                    "limitToPartitionsWithLag and ensureEvenDistributionOfPartitions cannot be set at the same time");
        }

        String version = p.orDefault("version", METADATA, Defaults.KAFKA_VERSION);
        if (!KAFKA_VERSION.matcher(version).matches()) {
            throw new TriggerParseException("version: \"" + version + "\" is not a Kafka version like 2.8.0");
        }
        MetricTargetType metricType = MetricTargetType.parse(input.metricType());
        if (metricType == MetricTargetType.UTILIZATION) {
            throw new TriggerParseException("metricType Utilization is only for cpu and memory triggers, not kafka");
        }

        return new KafkaTriggerSettings(bootstrapServers, consumerGroup, topic,
                topic.isEmpty() ? Set.of() : partitionLimitation, lagThreshold, activationLagThreshold,
                offsetResetPolicy, allowIdleConsumers, excludePersistentLag, scaleToZeroOnInvalidOffset,
                limitToPartitionsWithLag, ensureEvenDistribution, version, metricType, parseAuth(p));
    }

    private static KafkaAuth parseAuth(ParameterReader p) throws TriggerParseException {
        String saslValue = p.orDefault("sasl", AUTH_THEN_METADATA, "none");
        if (SASL_UNSUPPORTED.contains(saslValue)) {
            throw new TriggerParseException("sasl: " + p.shown("sasl", AUTH_THEN_METADATA, saslValue) + " is not supported by lagscaler;"
                    + " use none, plaintext, scram_sha256, scram_sha512 or oauthbearer");
        }
        SaslMechanism sasl = null;
        for (SaslMechanism m : SaslMechanism.values()) {
            if (m.kedaName().equals(saslValue)) {
                sasl = m;
            }
        }
        if (sasl == null) {
            throw new TriggerParseException("sasl: " + p.shown("sasl", AUTH_THEN_METADATA, saslValue)
                    + " is not one of none, plaintext, scram_sha256, scram_sha512, oauthbearer");
        }
        String username = p.optional("username", AUTH_THEN_METADATA);
        String password = p.optional("password", AUTH_THEN_METADATA);
        String tokenUri = p.optional("oauthTokenEndpointUri", AUTH_THEN_METADATA);
        if (sasl.needsUsernameAndPassword()) {
            if (username == null) {
                throw new TriggerParseException("no username given: sasl " + sasl.kedaName() + " needs username");
            }
            if (password == null) {
                throw new TriggerParseException("no password given: sasl " + sasl.kedaName() + " needs password");
            }
        }
        if (sasl == SaslMechanism.OAUTHBEARER && tokenUri == null) {
            throw new TriggerParseException("no oauthTokenEndpointUri given: sasl oauthbearer needs oauthTokenEndpointUri");
        }
        List<String> scopes = p.list("scopes", AUTH_THEN_METADATA);
        Map<String, String> extensions = p.keyValues("oauthExtensions", AUTH_THEN_METADATA);

        boolean tls = p.oneOf("tls", AUTH_THEN_METADATA, "disable", List.of("enable", "disable")).equals("enable");
        String ca = null;
        String cert = null;
        String key = null;
        String keyPassword = null;
        boolean unsafeSsl = false;
        if (tls) {
            ca = p.optional("ca", AUTH_THEN_METADATA);
            cert = p.optional("cert", AUTH_THEN_METADATA);
            key = p.optional("key", AUTH_THEN_METADATA);
            keyPassword = p.optional("keyPassword", AUTH_THEN_METADATA);
            unsafeSsl = p.bool("unsafeSsl", AUTH_THEN_METADATA);
            if (cert != null && key == null) {
                throw new TriggerParseException("key must be provided with cert");
            }
            if (key != null && cert == null) {
                throw new TriggerParseException("cert must be provided with key");
            }
        }
        return new KafkaAuth(sasl, username, password, tls, ca, cert, key, keyPassword, unsafeSsl, tokenUri,
                scopes, extensions);
    }
}
