package dev.swarmd.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where things are, from the system properties surefire passes (see it-tests/pom.xml), with defaults that work
 * when a test is run from the module directory by hand.
 *
 * <ul>
 *   <li>{@code swarmd.root}: the repository root (holds {@code bin/swarmd}); default {@code ..}</li>
 *   <li>{@code it.logDir}: daemon logs and CLI transcripts; default {@code target/it-logs}</li>
 *   <li>{@code it.workDir}: data roots and the CLI's empty config dir; default {@code target/it-work}</li>
 *   <li>{@code docker.cli}: the docker CLI binary; default {@code /usr/local/bin/docker}, else {@code /usr/bin/docker}</li>
 *   <li>{@code it.engine}: the Docker engine swarmd runs containers on; default {@code unix:///var/run/docker.sock}</li>
 *   <li>{@code it.reference=true}: run the tests against Docker's own swarm mode on the engine instead of swarmd,
 *       to check the tests' expectations against the real thing (only one class at a time; see {@link TestNode}).</li>
 * </ul>
 */
public final class ItConfig {
    private ItConfig() {}

    public static Path repoRoot() {
        return Paths.get(System.getProperty("swarmd.root", "..")).toAbsolutePath().normalize();
    }

    public static Path swarmdLauncher() {
        return repoRoot().resolve("bin").resolve("swarmd");
    }

    public static Path logDir() {
        return dir(System.getProperty("it.logDir", "target/it-logs"));
    }

    public static Path workDir() {
        return dir(System.getProperty("it.workDir", "target/it-work"));
    }

    public static String engineHost() {
        return System.getProperty("it.engine", "unix:///var/run/docker.sock");
    }

    public static boolean reference() {
        return Boolean.getBoolean("it.reference");
    }

    public static Path dockerCliBinary() {
        String explicit = System.getProperty("docker.cli");
        if (explicit != null && !explicit.isBlank()) {
            return Paths.get(explicit);
        }
        for (String candidate : new String[] {"/usr/local/bin/docker", "/usr/bin/docker"}) {
            Path p = Paths.get(candidate);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException("no docker CLI found at /usr/local/bin/docker or /usr/bin/docker (set -Ddocker.cli=...)");
    }

    private static Path dir(String name) {
        Path p = Paths.get(name).toAbsolutePath().normalize();
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
