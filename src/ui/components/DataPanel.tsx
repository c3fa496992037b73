import { memo, useRef, useState } from 'react';
import type { DataChoice } from '../../worker/protocol';
import { fmtBytes } from '../state/format';
import { ProgressText } from './fields';
import type { ServerDataState, UserDataState } from '../session/data-source';
import './data.css';

const RECORD = 3073;

export const DataPanel = memo(function DataPanel({
  server,
  user,
  choice,
  setChoice,
  onFiles,
  onDownload,
  disabled,
}: {
  server: ServerDataState;
  user: UserDataState;
  choice: DataChoice | null;
  setChoice: (c: DataChoice) => void;
  onFiles: (files: File[]) => void;
  onDownload: () => void;
  disabled: boolean;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const l = server.listing;
  const bins = l?.files.filter((f) => f.name.endsWith('.bin')) ?? [];
  const trainN = bins.filter((f) => f.name.startsWith('data_batch')).reduce((s, f) => s + Math.floor(f.size / RECORD), 0);
  const testN = bins.filter((f) => f.name === 'test_batch.bin').reduce((s, f) => s + Math.floor(f.size / RECORD), 0);
  const bytes = bins.reduce((s, f) => s + f.size, 0);
  const dl = l?.download;
  const none = server.status !== 'ready' && user.status !== 'ready';
  return (
    <div
      className={`data-panel${over ? ' drop' : ''}`}
      data-testid="data-panel"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (!disabled) onFiles([...e.dataTransfer.files]);
      }}
    >
      {server.status === 'checking' ? <div className="muted">Looking for CIFAR-10…</div> : null}
      {server.status === 'ready' && l ? (
        <label className={`data-source${choice === 'server' ? ' chosen' : ''}`}>
          <input type="radio" name="data" checked={choice === 'server'} onChange={() => setChoice('server')} disabled={disabled} />
          <span>
            <b>Local folder</b> <span className="muted">({l.rule})</span>
            <code className="path" data-testid="data-source">{l.source}</code>
            <span className="muted" data-testid="data-size">
              {trainN.toLocaleString('en')} train + {testN.toLocaleString('en')} test images · {bins.length} files · {fmtBytes(bytes)}
            </span>
          </span>
        </label>
      ) : null}
      {user.status === 'ready' && user.info ? (
        <label className={`data-source${choice === 'files' ? ' chosen' : ''}`}>
          <input type="radio" name="data" checked={choice === 'files'} onChange={() => setChoice('files')} disabled={disabled} />
          <span>
            <b>Your files</b>
            <code className="path">{user.info.source}</code>
            <span className="muted">
              {user.info.trainCount.toLocaleString('en')} train + {user.info.testCount.toLocaleString('en')} test images · {fmtBytes(user.info.bytes)} (parsed in the worker)
            </span>
          </span>
        </label>
      ) : null}
      {none && server.status !== 'checking' ? (
        <div className="callout warn" data-testid="no-data">
          <b>No CIFAR-10 data yet.</b> Do one of these:
          <ol>
            <li>
              Download the <b>binary version</b>, <code>cifar-10-binary.tar.gz</code> (162 MB), from{' '}
              <a href="https://www.cs.toronto.edu/~kriz/cifar.html" target="_blank" rel="noreferrer noopener">
                www.cs.toronto.edu/~kriz/cifar.html
              </a>{' '}
              and drop it here or pick it below — it is unpacked in your browser, nothing is uploaded.
            </li>
            <li>
              Or unpack it into <code>./data</code> (giving <code>./data/cifar-10-batches-bin</code>) or set <code>CIFAR10_DIR</code>, then restart <code>npm start</code> and reload.
            </li>
            {server.status === 'none' ? (
              <li>
                Or let the local server fetch it once into <code>./data</code>:{' '}
                <button type="button" className="link" onClick={onDownload} disabled={dl?.state === 'downloading' || dl?.state === 'extracting'}>
                  download it for me
                </button>
              </li>
            ) : null}
          </ol>
          {l?.tried.length ? <div className="muted small">Looked in: {l.tried.join(', ')}</div> : null}
          {server.status === 'error' && server.message ? <div className="muted small">{server.message}</div> : null}
        </div>
      ) : null}
      {dl && dl.state !== 'idle' && dl.state !== 'done' ? (
        <div className={`callout ${dl.state === 'error' ? 'error' : ''}`} role={dl.state === 'error' ? 'alert' : 'status'}>
          {dl.state === 'error' ? <b>Download failed: </b> : null}
          {dl.message}
          {dl.state === 'downloading' ? <ProgressText label="" loaded={dl.received} total={dl.total} /> : null}
        </div>
      ) : null}
      <div className="file-pick">
        <label htmlFor="cifar-files">CIFAR-10 files</label>
        <input
          ref={input}
          id="cifar-files"
          type="file"
          multiple
          accept=".gz,.tgz,.tar,.bin"
          disabled={disabled || user.status === 'loading'}
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            onFiles(files);
          }}
        />
        <div className="hint">cifar-10-binary.tar.gz or its .bin files — pick or drop them here</div>
      </div>
      {user.status === 'loading' ? (
        <div className="callout" role="status" data-testid="files-progress">
          <ProgressText label={user.progress?.label ?? 'reading…'} loaded={user.progress?.loaded ?? 0} total={user.progress?.total ?? null} />
        </div>
      ) : null}
      {user.status === 'error' ? (
        <div className="callout error" role="alert" data-testid="data-error" data-attempt={user.attempt}>
          <b>These files cannot be used:</b> {user.message}
        </div>
      ) : null}
    </div>
  );
});
