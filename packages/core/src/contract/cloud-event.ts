/** CloudEvents 1.0 as the contract sees them: what a sender sets, what a receiver reads. */

/** The attributes a sender chooses; id, specversion, time and datacontenttype are filled in. */
export interface CloudEventOptions {
  /** Reverse-DNS event type, e.g. `com.example.order.placed`. */
  type?: string;
  /** URI-reference of the producing context, e.g. `/orders-service`. */
  source?: string;
  subject?: string;
  /** Default: the send time. */
  time?: Date | string;
  dataschema?: string;
  /** Extension attributes: lower-case a–z and 0–9 names, at most 20 characters. */
  extensions?: Record<string, string>;
}

/** A received CloudEvent's attributes (its data is the message body). */
export interface CloudEventAttributes {
  id: string;
  source: string;
  type: string;
  specversion: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  extensions: Record<string, string>;
}
