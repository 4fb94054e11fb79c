// Blob, File and FormData (formdata-node) and the multipart encoder
// (form-data-encoder), imported as ES modules (their packages export only
// those to a bundle that is not for Node or a browser), for fetch.js.
export { Blob, File, FormData } from 'formdata-node';
export { FormDataEncoder } from 'form-data-encoder';
