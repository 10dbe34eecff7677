package dev.lagscaler.trigger;

import java.util.List;
import java.util.Map;

/**
 * How to authenticate to a Kafka cluster: SASL and TLS settings resolved from a trigger's auth params and metadata.
 * Holds secrets; {@link #toString()} never prints them.
 */
public record KafkaAuth(
        SaslMechanism sasl,
        String username,
        String password,
        boolean tls,
        String ca,
        String cert,
        String key,
        String keyPassword,
        boolean unsafeSsl,
        String oauthTokenEndpointUri,
        List<String> scopes,
        Map<String, String> oauthExtensions) {

    public static final KafkaAuth NONE = new KafkaAuth(SaslMechanism.NONE, null, null, false, null, null, null, null,
            false, null, List.of(), Map.of());

    public KafkaAuth {
        scopes = List.copyOf(scopes);
        oauthExtensions = Map.copyOf(oauthExtensions);
    }

    @Override
    public String toString() {
        return "KafkaAuth[sasl=" + sasl.kedaName() + ", username=" + (username == null ? "none" : "set")
                + ", password=" + (password == null ? "none" : "redacted") + ", tls=" + tls
                + ", ca=" + (ca == null ? "none" : "set") + ", cert=" + (cert == null ? "none" : "set")
                + ", key=" + (key == null ? "none" : "redacted") + ", unsafeSsl=" + unsafeSsl + "]";
    }
}
