package dev.lagscaler.trigger;

/** The {@code sasl} trigger parameter's values, with the Kafka mechanism each one maps to. */
public enum SaslMechanism {
    NONE("none", null),
    PLAINTEXT("plaintext", "PLAIN"),
    SCRAM_SHA256("scram_sha256", "SCRAM-SHA-256"),
    SCRAM_SHA512("scram_sha512", "SCRAM-SHA-512"),
    OAUTHBEARER("oauthbearer", "OAUTHBEARER"),
    GSSAPI("gssapi", "GSSAPI");

    private final String kedaName;
    private final String kafkaName;

    SaslMechanism(String kedaName, String kafkaName) {
        this.kedaName = kedaName;
        this.kafkaName = kafkaName;
    }

    public String kedaName() {
        return kedaName;
    }

    /** The value of Kafka's {@code sasl.mechanism}; null for {@link #NONE}. */
    public String kafkaName() {
        return kafkaName;
    }

    /** The KEDA names, for error messages. */
    static String kedaNames() {
        StringBuilder names = new StringBuilder();
        for (SaslMechanism m : values()) {
            names.append(names.length() == 0 ? "" : ", ").append(m.kedaName);
        }
        return names.toString();
    }
}
