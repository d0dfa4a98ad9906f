package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The audit trail on one node: a scripted session (create, scale, an image update, drain and back, remove), then
 * `docker events` with since/until and filters prints the changes as Docker would, live events stream, and
 * `swarmd audit` replays the journal of the stopped node with the cause of every change.
 */
class AuditTest {
    static final int N = 18;
    static final ObjectMapper JSON = new ObjectMapper();
    static TestNode node;

    @BeforeAll
    static void startDaemon() {
        assumeFalse(ItConfig.reference(), "swarmd's own journal");
        node = TestNode.start("audit", N);
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    /** `docker events` lines without their timestamps, for a window that has ended. */
    static List<String> events(String since, String until, String... filters) {
        return events(node, since, until, filters);
    }

    /** `docker events` lines of {@code on} without their timestamps, for a window that has ended. */
    static List<String> events(TestNode on, String since, String until, String... filters) {
        List<String> args = new ArrayList<>(List.of("events", "--since", since, "--until", until));
        for (String f : filters) {
            args.add("--filter");
            args.add(f);
        }
        return on.docker(args.toArray(String[]::new)).nonBlankLines().stream()
                .map(l -> l.substring(l.indexOf(' ') + 1))
                .collect(Collectors.toList());
    }

    static String epoch(Instant t) {
        return t.getEpochSecond() + "." + String.format("%09d", t.getNano());
    }

    @Test
    void aSessionIsToldBackByDockerEventsAndByTheAuditOfTheStoppedNode() throws Exception {
        Instant t0 = Instant.now();
        node.swarmInit().ok();
        String self = node.nodeId();
        node.docker("service", "create", "-d", "--name", "aud", "--replicas", "2", "redis:3.0.6");
        node.awaitRunning("aud", 2);
        String id = node.docker("service", "inspect", "--format", "{{.ID}}", "aud").stdout().trim();
        node.docker("service", "scale", "-d", "aud=3");
        node.awaitRunning("aud", 3);
        node.docker("service", "update", "-d", "--image", "redis:3.0.7", "aud");
        Eventually.await("the image update completes", () -> assertEquals("completed",
                node.docker("service", "inspect", "--format", "{{.UpdateStatus.State}}", "aud").stdout().trim()));
        node.docker("node", "update", "--availability", "drain", self);
        node.docker("node", "update", "--availability", "active", self);
        node.docker("service", "rm", "aud");
        Instant t1 = Instant.now();

        // Live: a second client, and swarmd audit --follow, see a new service's creation as it happens.
        Path live = Files.createTempFile("swarmd-events", ".txt");
        Process follow = new ProcessBuilder(node.cli().binary().toString(), "-H", node.dockerHost(), "events",
                "--filter", "type=service", "--filter", "event=create").redirectErrorStream(true)
                .redirectOutput(live.toFile()).start();
        Path followed = Files.createTempFile("swarmd-audit-follow", ".txt");
        Process auditFollow = new ProcessBuilder(ItConfig.swarmdLauncher().toString(), "audit", "--follow", "-H",
                node.dockerHost(), "-f", "type=service", "-f", "event=create").redirectErrorStream(true)
                .redirectOutput(followed.toFile()).start();
        try {
            Thread.sleep(2000);
            node.docker("service", "create", "-d", "--name", "later", "redis:3.0.6");
            String laterId = node.docker("service", "inspect", "--format", "{{.ID}}", "later").stdout().trim();
            Eventually.await("the live stream shows the new service", () -> assertTrue(
                    Files.readString(live).contains("service create " + laterId + " (name=later)"),
                    Files.readString(live)));
            Eventually.await("swarmd audit --follow shows the history, then the new service with its cause", () -> {
                String text = Files.readString(followed);
                assertTrue(text.contains("\tservice\tcreate\t" + id + "\taud\tapi 127.0.0.1 ("), text);
                assertTrue(text.contains("\tservice\tcreate\t" + laterId + "\tlater\tapi 127.0.0.1 ("), text);
            });
        } finally {
            follow.destroy();
            follow.waitFor(10, TimeUnit.SECONDS);
            auditFollow.destroy();
            auditFollow.waitFor(10, TimeUnit.SECONDS);
        }
        node.docker("service", "rm", "later");

        String since = epoch(t0);
        String until = epoch(t1);
        assertEquals(List.of(
                "service create " + id + " (name=aud)",
                "service update " + id + " (name=aud, replicas.new=3, replicas.old=2)",
                "service update " + id + " (image.new=redis:3.0.7, image.old=redis:3.0.6, name=aud)",
                "service update " + id + " (name=aud, updatestate.new=updating)",
                "service update " + id + " (name=aud, updatestate.new=completed, updatestate.old=updating)",
                "service remove " + id + " (name=aud)"), events(since, until, "type=service"));
        assertEquals(List.of(
                "node update " + self + " (availability.new=drain, availability.old=active, name=it-audit)",
                "node update " + self + " (availability.new=active, availability.old=drain, name=it-audit)"),
                events(since, until, "type=node", "event=update"));
        assertEquals(List.of("service remove " + id + " (name=aud)"),
                events(since, until, "service=aud", "event=remove"));
        List<String> containers = events(since, until, "type=container", "event=start");
        assertEquals(6, containers.size(), "2 + 1 + 3 replaced by the update: " + containers);
        assertTrue(containers.stream().allMatch(l -> l.contains("com.docker.swarm.service.name=aud")), containers.toString());
        CliResult bad = node.cli().run("events", "--since", until, "--until", since);
        assertTrue(bad.exitCode() != 0 && bad.stderr().contains("cannot be after"), bad.describe());

        node.kill9();
        Path root = node.daemon().dataRoot();
        List<String> table = audit(root);
        assertEquals(List.of("TIME", "INDEX", "TYPE", "ACTION", "ID", "NAME", "CAUSE", "CHANGES"),
                List.of(table.get(0).split("\t")));
        assertTrue(table.stream().anyMatch(r -> r.contains("\tservice\tcreate\t" + id + "\taud\tapi 127.0.0.1 (")
                && r.contains("POST /services/create")), String.join("\n", table));
        assertTrue(table.stream().anyMatch(r -> r.contains("\tservice\tupdate\t" + id + "\taud\t")
                && r.contains("POST /services/" + id + "/update") && r.contains("replicas.new=3")), String.join("\n", table));
        assertTrue(table.stream().anyMatch(r -> r.contains("\tnode\tupdate\t" + self + "\tit-audit\tapi ")
                && r.contains("availability.new=drain")), String.join("\n", table));
        assertTrue(table.stream().anyMatch(r -> r.contains("\tcontainer\tstart\t") && r.contains("\tagent ")),
                "a task's start is told with the agent that reported it:\n" + String.join("\n", table));

        List<String> json = audit(root, "--json", "--filter", "type=service", "--filter", "event=create");
        List<String> names = new ArrayList<>();
        for (String line : json) {
            JsonNode o = JSON.readTree(line);
            names.add(o.get("attributes").get("name").asText());
            assertTrue(o.get("cause").get("reason").asText().equals("POST /services/create"), line);
        }
        assertEquals(List.of("aud", "later"), names);

        List<String> verified = audit(root, 0, "verify");
        assertTrue(verified.get(0).startsWith("journal intact: "), verified.toString());
        tamper(root.resolve("swarm").resolve("journal"), "redis:3.0.7", "redis:3.0.8");
        List<String> broken = audit(root, 1, "verify");
        assertTrue(broken.get(0).startsWith("journal broken at index "), broken.toString());
    }

    /** Changes the first occurrence of was (in whichever journal file has it) into now, same length. */
    static void tamper(Path journal, String was, String now) throws IOException {
        byte[] from = was.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] to = now.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        List<Path> files;
        try (var list = Files.list(journal)) {
            files = list.sorted().collect(Collectors.toList());
        }
        for (Path f : files) {
            byte[] data = Files.readAllBytes(f);
            for (int i = 0; i + from.length <= data.length; i++) {
                if (java.util.Arrays.equals(data, i, i + from.length, from, 0, from.length)) {
                    System.arraycopy(to, 0, data, i, to.length);
                    Files.write(f, data);
                    return;
                }
            }
        }
        throw new AssertionError(was + " is in no journal file");
    }

    static List<String> audit(Path dataRoot, String... args) throws IOException, InterruptedException {
        return audit(dataRoot, 0, args);
    }

    /** `swarmd audit [args] --data-root dataRoot`, expecting exit code exit; its output lines. */
    static List<String> audit(Path dataRoot, int exit, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ItConfig.swarmdLauncher().toString(), "audit"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--data-root", dataRoot.toString()));
        Path out = Files.createTempFile("swarmd-audit", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "swarmd audit finishes");
        assertEquals(exit, p.exitValue(), Files.readString(out));
        List<String> lines = Files.readAllLines(out).stream().filter(l -> !l.isBlank()).collect(Collectors.toList());
        Files.delete(out);
        return lines;
    }
}
