package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Container;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An image that does not exist (and cannot be pulled: no registry is reachable) ends each task `rejected` with
 * "No such image: ...", and the restart policy keeps making new attempts in the same slot.
 */
class MissingImageTest {
    static final int N = 15;
    static TestNode node;

    @BeforeAll
    static void startDaemon() {
        node = TestNode.start("missing", N);
        node.swarmInit().ok();
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void missingImageIsRejectedAndRetriedInSlotOne() {
        CliResult create = node.docker("service", "create", "-d", "--name", "bad", "nosuchimage:latest");
        List<String> out = create.nonBlankLines();
        assertEquals(1, out.size(), create.describe());
        assertTrue(out.get(0).matches(Ids.ID), create.describe());

        // untruncated, through --no-trunc and --format: wait for the first attempt and a retry to be rejected
        Eventually.await("two rejected attempts of bad.1 with the full error", () -> {
            CliResult full = node.docker("service", "ps", "--no-trunc", "--format",
                    "{{.Name}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}", "bad");
            long rejected = full.nonBlankLines().stream()
                    .filter(l -> l.matches("bad\\.1\\|\\w+\\|Rejected .+ ago\\|\"No such image: nosuchimage:latest\""))
                    .count();
            assertTrue(rejected >= 2, "at least two rejected attempts with the full error: " + full.describe());
        });

        // the table, as the user sees it: the CLI cuts ERROR to 30 characters ("No such image: nosuchimage:la…")
        CliResult ps = node.docker("service", "ps", "bad");
        Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
        assertTrue(t.size() >= 2, "a retry in slot 1: " + ps.describe());
        assertTrue(t.rawRows().stream().anyMatch(l -> l.matches("[0-9a-z]{12}\\s+\\\\_ bad\\.1\\s+nosuchimage:latest\\s+.*")),
                "a history row ' \\_ bad.1': " + ps.describe());
        assertEquals("bad.1", t.rows().get(0).get("NAME"), "the newest attempt comes first: " + ps.describe());
        for (Map<String, String> row : t.rows()) {
            assertTrue(row.get("NAME").equals("bad.1") || row.get("NAME").equals("\\_ bad.1"), ps.describe());
            assertEquals("nosuchimage:latest", row.get("IMAGE"), ps.describe());
        }
        for (Map<String, String> row : t.rows().subList(1, t.size())) {
            assertEquals("\\_ bad.1", row.get("NAME"), ps.describe());
            assertEquals("Shutdown", row.get("DESIRED STATE"), "a replaced attempt: " + ps.describe());
            assertTrue(row.get("CURRENT STATE").matches("Rejected .+ ago"), ps.describe());
            assertTrue(row.get("ERROR").startsWith("\"No such image: nosuchimage:la"), ps.describe());
            assertEquals(node.hostname(), row.get("NODE"), ps.describe());
        }
        CliResult table = node.docker("service", "ps", "--no-trunc", "bad");
        assertTrue(table.stdout().contains("\"No such image: nosuchimage:latest\""), table.describe());

        CliResult ls = node.docker("service", "ls");
        assertTrue(ls.hasLine("[0-9a-z]{12}\\s+bad\\s+replicated\\s+0/1\\s+nosuchimage:latest\\s*"), ls.describe());

        List<Container> running = node.running("bad");
        assertTrue(running.isEmpty(), "nothing of bad runs: " + Engine.describe(running));
        assertTrue(!node.engine().imageExists("nosuchimage:latest"), "no image appeared from nowhere");

        node.docker("service", "rm", "bad");
        Eventually.await("service ls is empty again", () ->
                assertEquals(List.of(), node.docker("service", "ls", "-q").nonBlankLines()));
        Eventually.await("no container of bad left", () -> assertTrue(node.allContainers("bad").isEmpty(),
                Engine.describe(node.allContainers("bad"))));
    }

    /**
     * A service whose tasks can never start costs one task per slot per restart delay (5 s by default), as in
     * swarmkit, whatever the failure: an image that is missing, a host port that is taken.
     */
    @Test
    void tasksThatCanNeverStartAreRetriedOncePerRestartDelay() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(node.advertiseAddr(), 0));
            Instant since = Instant.now();
            node.docker("service", "create", "-d", "--name", "noimage", "--replicas", "2", "nosuchimage:latest").ok();
            node.docker("service", "create", "-d", "--name", "portinuse", "--publish",
                    "published=" + taken.getLocalPort() + ",target=80,mode=host", "swarmd-test/web").ok();
            Eventually.settle(Duration.ofSeconds(30));
            long seconds = Duration.between(since, Instant.now()).toSeconds();
            node.docker("service", "rm", "noimage", "portinuse").ok();
            List<String> creates = AuditTest.audit(node.daemon().dataRoot(), "--filter", "type=task").stream()
                    .filter(l -> l.split("\t").length > 5 && l.split("\t")[3].equals("create"))
                    .map(l -> l.split("\t")[5])
                    .toList();
            long most = seconds / 5 + 1;
            for (String slot : List.of("noimage.1", "noimage.2", "portinuse.1")) {
                long n = creates.stream().filter(slot::equals).count();
                System.out.println("[it-tests] " + slot + ": " + n + " tasks in " + seconds + " s");
                assertTrue(n >= 2, slot + " was retried: " + n + " tasks in " + seconds + " s");
                assertTrue(n <= most, slot + ": " + n + " tasks in " + seconds + " s, at most " + most
                        + " with a 5 s restart delay");
            }
        }
    }
}
