/**
 * A child process for tests: writes a large file atomically, over and over, until it is killed.
 * Usage: node --import tsx test/helpers/atomic-writer.ts <target>
 */
import { writeFileAtomic } from '../../runtime/util/atomic-file';

const target = process.argv[2];
const chunk = Buffer.alloc(1024 * 1024, 7);
const chunks = Array.from({ length: 64 }, () => chunk);
for (;;) writeFileAtomic(target, chunks);
