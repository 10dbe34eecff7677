package dev.lagscaler.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a test class the real control plane (a {@link LocalControlPlane} parameter), started once per test JVM
 * and shared by every class that asks for it.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Tag("kubernetes")
@ExtendWith(ControlPlaneExtension.class)
public @interface WithControlPlane {
}
