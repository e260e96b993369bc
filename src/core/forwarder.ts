/** The forwarder lives in the delivery module; this path stays for the faces that import its types. */
export * from './delivery/forwarder.js';
