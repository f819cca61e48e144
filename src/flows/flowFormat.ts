import { formatD0350Header, formatD0350Record, formatD0350Trailer } from "./d0350";
import { formatE46Header, formatE46Record, formatE46Trailer } from "./e46";
import { type FlowFileHeader, FlowKind, type FlowRecord } from "./flowRecord";

/** One interface over both formats, so writers stream a file without knowing which it is. */
export interface FlowFormat {
  header(h: FlowFileHeader): string;
  record(r: FlowRecord): string;
  trailer(h: FlowFileHeader, recordCount: number): string;
}

export interface FlowFormatOptions {
  /** The D0350 group id (config D0350_GROUP_ID). */
  readonly d0350GroupId: string;
}

export function createFlowFormat(flow: FlowKind, o: FlowFormatOptions): FlowFormat {
  switch (flow) {
    case FlowKind.D0350:
      return {
        header: formatD0350Header,
        record: (r) => formatD0350Record(r, o.d0350GroupId),
        trailer: formatD0350Trailer,
      };
    case FlowKind.E46:
      return { header: formatE46Header, record: formatE46Record, trailer: (_h, n) => formatE46Trailer(n) };
  }
}
