/**
 * What the local stack needs on the machine: Java 17+ for Kafka and ElasticMQ, Maven once to fetch their jars.
 * Each check fails with a PrerequisiteError that says what is missing and how to get it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PrerequisiteError } from '../../shared/infra/errors.ts';

export const MIN_JAVA = 17;

export function javaCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Parses the major version from `java -version` output (`openjdk version "17.0.15"`, `"1.8.0_392"`). */
export function parseJavaMajor(output: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] ? Number(m[2]) : first;
}

export function requireJava(env: NodeJS.ProcessEnv = process.env): string {
  const java = javaCommand(env);
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const howTo =
    'Kafka and ElasticMQ need Java 17 or newer: install a JDK (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; ' +
    'macOS: brew install openjdk@17) or point JAVA_HOME at one.';
  if (r.error || r.status !== 0) {
    throw new PrerequisiteError(`Java not found (${java}${env.JAVA_HOME ? ' from JAVA_HOME' : ' on PATH'}). ${howTo}`);
  }
  const major = parseJavaMajor(`${r.stderr}${r.stdout}`);
  if (major === undefined || major < MIN_JAVA) {
    throw new PrerequisiteError(`Java ${major ?? '(unknown version)'} found at ${java}, need ${MIN_JAVA}+. ${howTo}`);
  }
  return java;
}

export function requireMaven(env: NodeJS.ProcessEnv = process.env): string {
  const mvn = env.MAVEN_CMD ?? 'mvn';
  const r = spawnSync(mvn, ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new PrerequisiteError(
      `Maven not found (${mvn} on PATH). It is needed once, to download the Kafka and ElasticMQ jars from Maven ` +
        'Central into the cache: install it (Debian/Ubuntu: apt-get install maven; macOS: brew install maven), ' +
        'or copy a filled cache (QUAKECTL_CACHE) from another machine.',
    );
  }
  return mvn;
}
