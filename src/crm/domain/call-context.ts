/** Who is calling and how, from the request's token and headers. */
export interface CallContext {
  userId: string;
  /** `Sforce-Auto-Assign`: undefined when the header is absent (Salesforce then means TRUE). */
  autoAssign: boolean | undefined;
}
