package dev.lagscaler.auth;

import dev.lagscaler.trigger.KafkaAuth;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Security;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;

/**
 * What a GSSAPI (Kerberos) connection needs on this JVM, held for as long as its Kafka client lives.
 *
 * <p>As KEDA does, the keytab and the {@code kerberosConfig} (a krb5.conf) are written to files under
 * {@code <tmpdir>/kerberos} (mode 0600 in a 0700 folder; mount a writable emptyDir there in a read-only container),
 * and a {@code ccacheName} names a credential cache in {@code <tmpdir>/kerberos/ccache/}. The files are removed when
 * the client closes. A password login is answered by {@link PasswordHandler} from memory, never from a file.
 *
 * <p>Java reads one Kerberos configuration per JVM ({@code java.security.krb5.conf}): clients whose kerberosConfig
 * differs from the one in use are refused with a clear error until the other clients close.
 */
public final class KerberosLogin implements AutoCloseable {
    static final Path DIRECTORY = Path.of(System.getProperty("java.io.tmpdir"), "kerberos");

    private static final Object LOCK = new Object();
    private static String activeConfig;
    private static Path activeConfigFile;
    private static int activeConfigUsers;
    private static final Map<String, String> PASSWORDS = new HashMap<>();
    private static final Map<String, Integer> PASSWORD_USERS = new HashMap<>();

    private final String principal;
    private final String password;
    private final List<Path> files;
    private final String jaasConfig;
    private boolean closed;

    private KerberosLogin(String principal, String password, List<Path> files, String jaasConfig) {
        this.principal = principal;
        this.password = password;
        this.files = files;
        this.jaasConfig = jaasConfig;
    }

    /** Writes the files, installs the Kerberos configuration and registers a password, for one client. */
    public static KerberosLogin open(KafkaAuth auth) {
        KafkaAuth.Kerberos k = auth.kerberos();
        String principal = auth.username().contains("@") ? auth.username() : auth.username() + "@" + k.realm();
        List<Path> files = new ArrayList<>();
        synchronized (LOCK) {
            if (activeConfig != null && !activeConfig.equals(k.kerberosConfig())) {
                throw new IllegalStateException("kerberosConfig differs from the one another trigger's client uses:"
                        + " this JVM holds one Kerberos configuration (java.security.krb5.conf), so triggers of one"
                        + " operator must share their kerberosConfig");
            }
            if (activeConfig == null) {
                activeConfigFile = write(k.kerberosConfig().getBytes(StandardCharsets.UTF_8), "krb5-", ".conf");
                activeConfig = k.kerberosConfig();
                System.setProperty("java.security.krb5.conf", activeConfigFile.toString());
            }
            activeConfigUsers++;
            StringBuilder jaas = new StringBuilder("com.sun.security.auth.module.Krb5LoginModule required"
                    + " refreshKrb5Config=true storeKey=true principal=" + KafkaClientConfig.quote(principal));
            if (k.keytabBase64() != null) {
                Path keytab = write(Base64.getDecoder().decode(k.keytabBase64()), "keytab-", ".keytab");
                files.add(keytab);
                jaas.append(" useKeyTab=true doNotPrompt=true keyTab=").append(KafkaClientConfig.quote(keytab.toString()));
            } else if (k.ccacheName() != null) {
                Path cache = DIRECTORY.resolve("ccache").resolve(k.ccacheName());
                if (!Files.isRegularFile(cache)) {
                    releaseConfig();
                    throw new IllegalStateException("ccache file " + cache + " does not exist or is not a regular file");
                }
                jaas.append(" useTicketCache=true doNotPrompt=true ticketCache=").append(KafkaClientConfig.quote(cache.toString()));
            } else {
                PASSWORDS.put(principal, auth.password());
                PASSWORD_USERS.merge(principal, 1, Integer::sum);
                // Kafka re-logs in without a callback handler when the ticket nears its end; the JVM's default
                // handler then answers, so it must be this one.
                Security.setProperty("auth.login.defaultCallbackHandler", PasswordHandler.class.getName());
            }
            jaas.append(";");
            return new KerberosLogin(principal, k.keytabBase64() == null && k.ccacheName() == null ? auth.password() : null,
                    files, jaas.toString());
        }
    }

    /** The client settings: mechanism, service name, JAAS entry, and the password handler when one is needed. */
    Map<String, Object> clientConfig(KafkaAuth auth) {
        Map<String, Object> config = new HashMap<>();
        config.put(SaslConfigs.SASL_MECHANISM, "GSSAPI");
        config.put(SaslConfigs.SASL_KERBEROS_SERVICE_NAME, auth.kerberos().serviceName());
        config.put(SaslConfigs.SASL_JAAS_CONFIG, jaasConfig);
        if (password != null) {
            config.put(SaslConfigs.SASL_LOGIN_CALLBACK_HANDLER_CLASS, PasswordHandler.class);
        }
        return config;
    }

    @Override
    public void close() {
        synchronized (LOCK) {
            if (closed) {
                return;
            }
            closed = true;
            if (password != null && PASSWORD_USERS.merge(principal, -1, Integer::sum) <= 0) {
                PASSWORD_USERS.remove(principal);
                PASSWORDS.remove(principal);
            }
            releaseConfig();
        }
        files.forEach(KerberosLogin::delete);
    }

    private static void releaseConfig() {
        if (--activeConfigUsers <= 0) {
            activeConfigUsers = 0;
            delete(activeConfigFile);
            activeConfig = null;
            activeConfigFile = null;
        }
    }

    private static Path write(byte[] content, String prefix, String suffix) {
        try {
            Files.createDirectories(DIRECTORY);
            try {
                Files.setPosixFilePermissions(DIRECTORY, PosixFilePermissions.fromString("rwx------"));
            } catch (IOException | UnsupportedOperationException e) {
                // A mounted folder we do not own keeps its mode; the files below are still private.
            }
            Path file = Files.createTempFile(DIRECTORY, prefix, suffix,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(file, content);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write Kerberos material under " + DIRECTORY
                    + " (in a container, mount a writable emptyDir there)", e);
        }
    }

    private static void delete(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // Left for the temp folder's cleanup; it holds no more than this process wrote.
        }
    }

    /**
     * Answers Krb5LoginModule's name and password questions for a password login, from the passwords registered by
     * open clients; Kafka's login callback handler and the JVM's default handler for re-logins.
     */
    public static final class PasswordHandler implements AuthenticateCallbackHandler {
        private String configuredPrincipal;

        @Override
        public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
            for (AppConfigurationEntry entry : jaasConfigEntries) {
                if (entry.getOptions().get("principal") instanceof String principal) {
                    configuredPrincipal = principal;
                }
            }
        }

        @Override
        public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
            for (Callback callback : callbacks) {
                if (callback instanceof NameCallback nc) {
                    nc.setName(configuredPrincipal != null ? configuredPrincipal : nc.getDefaultName());
                } else if (callback instanceof PasswordCallback pc) {
                    pc.setPassword(passwordFor(pc.getPrompt(), callback).toCharArray());
                } else {
                    throw new UnsupportedCallbackException(callback);
                }
            }
        }

        /** The configured principal's password; on a re-login (no configuration), the principal the prompt names. */
        private String passwordFor(String prompt, Callback callback) throws UnsupportedCallbackException {
            synchronized (LOCK) {
                if (configuredPrincipal != null && PASSWORDS.containsKey(configuredPrincipal)) {
                    return PASSWORDS.get(configuredPrincipal);
                }
                String best = null;
                for (String principal : PASSWORDS.keySet()) {
                    if (prompt != null && prompt.contains(principal) && (best == null || principal.length() > best.length())) {
                        best = principal;
                    }
                }
                if (best == null) {
                    throw new UnsupportedCallbackException(callback, "no Kerberos password registered for this login");
                }
                return PASSWORDS.get(best);
            }
        }

        @Override
        public void close() {
        }
    }
}
