// The contract of GET /ai-bridge/reports (the report system link, issue 16), shared by the gateway and the admin UI.

export interface ReportReceivedView {
  readonly id: number;
  readonly itemId: number;
  readonly messageType: string;
  readonly controlId: string;
  readonly peer: string;
  readonly via: string;
  readonly studyInstanceUid: string;
  readonly resultStatus: string;
  /** Epoch ms. */
  readonly receivedAt: number;
  /** The state and outcome of the study's re-check ('report-message' work item). */
  readonly state: string;
  readonly outcome: string | null;
}

export interface ReportSentView {
  readonly id: number;
  readonly state: string;
  readonly attempts: number;
  readonly outcome: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly studyInstanceUid: string;
  readonly srSopInstanceUid: string;
  readonly controlId: string;
  /** 'P' preliminary, 'C' a correction. */
  readonly status: string;
  readonly annotationId: number;
  readonly createdAt: number;
  readonly nextAttemptAt: number;
}

export interface ReportErrorView {
  readonly at: number;
  readonly peer: string;
  readonly via: string;
  readonly code: string;
  readonly reason: string;
}

export type ReportsOverview =
  | { readonly enabled: false }
  | {
    readonly enabled: true;
    readonly listening: { readonly address: string; readonly port: number; readonly tls: boolean; readonly allowedPeers: readonly string[] } | null;
    readonly outbound: { readonly host: string; readonly port: number } | null;
    readonly received: readonly ReportReceivedView[];
    readonly receivedCounts: Readonly<Record<string, number>>;
    readonly sent: readonly ReportSentView[];
    readonly sentCounts: Readonly<Record<string, number>>;
    readonly errors: readonly ReportErrorView[];
  };
