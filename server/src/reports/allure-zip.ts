import { PassThrough, Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { AllureReport } from './allure.js';

/** Opens an artifact's file; undefined when it is recorded but gone from the store. */
export type OpenArtifact = (artifactId: number) => Promise<Readable | undefined>;

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/**
 * The report as the zip of an `allure-results` folder, flat as `allure generate` reads it,
 * streamed: artifact files are opened one at a time as the zip reaches them. A store failure
 * midway ends the stream with that error.
 */
export function allureZip(report: AllureReport, open: OpenArtifact): Readable {
  const zip = new ZipFile();
  const output = new PassThrough();
  zip.on('error', (error: Error) => output.destroy(error));
  zip.outputStream.pipe(output);

  for (const result of report.results) zip.addBuffer(json(result), `${result.uuid}-result.json`);
  for (const container of report.containers)
    zip.addBuffer(json(container), `${container.uuid}-container.json`);
  for (const attachment of report.attachments) {
    const { source, content, artifactId } = attachment;
    if (content !== undefined) zip.addBuffer(Buffer.from(content), source);
    else if (artifactId !== undefined)
      // Screenshots, videos and traces are compressed already.
      zip.addReadStreamLazy(source, { compress: false }, (done) => {
        open(artifactId).then(
          (stream) =>
            done(
              null,
              stream ?? Readable.from([`artifact ${artifactId} is recorded but its file is gone`]),
            ),
          (error: unknown) => zip.emit('error', error),
        );
      });
  }
  zip.addBuffer(Buffer.from(report.environment), 'environment.properties');
  zip.end();
  return output;
}
